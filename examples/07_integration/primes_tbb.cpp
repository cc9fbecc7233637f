// primes_tbb.cpp — the prime count of primes.hpp as a oneTBB parallel_reduce.
//
// oneTBB is a library, not a pragma: parallel_reduce takes a range, an identity, a
// body that folds a sub-range into a partial count and a function that joins two
// partial counts. Its scheduler splits the range and idle threads steal the halves
// that others have not started, which balances the uneven chunks
// (Py: a dask.delayed graph of chunk counts and one sum, run by .compute()).
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_reduce.h>

#include <exception>
#include <functional>
#include <iostream>

#include "primes.hpp"   // count_chunk, count_serial, timed, report

namespace {

long count_tbb() {
    // By default oneTBB starts one thread per core; say how many, as for the others.
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, kWorkers);
    return tbb::parallel_reduce(
        tbb::blocked_range<int>(0, kChunks, 1),   // grain size 1: split down to one chunk
        0L,
        [](const tbb::blocked_range<int>& r, long partial) {
            for (int c = r.begin(); c != r.end(); ++c) partial += count_chunk(c);
            return partial;
        },
        std::plus<long>());
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: primes_tbb\n"; return 2; }
    try {
        Timed serial = timed(count_serial);
        Timed parallel = timed(count_tbb);    // oneTBB reports failures by exceptions
        return report("oneTBB", serial, parallel) ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "primes_tbb: " << e.what() << '\n';
        return 1;
    }
}
