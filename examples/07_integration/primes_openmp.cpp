// primes_openmp.cpp — the prime count of primes.hpp, parallelised by one OpenMP pragma.
//
// The serial loop stays as it is; the pragma splits its iterations between threads,
// hands them out one chunk at a time (schedule(dynamic, 1): later chunks cost more)
// and adds the partial counts without a race (reduction)
// (Py: dask.bag.map(count_chunk).sum(), on threads that really run in parallel).
#include <iostream>

#include "primes.hpp"   // count_chunk, count_serial, timed, report

namespace {

long count_openmp() {
    long total = 0;
    // Without reduction(+ : total), "total +=" from two threads would be a data race.
    #pragma omp parallel for num_threads(kWorkers) schedule(dynamic, 1) reduction(+ : total)
    for (int c = 0; c < kChunks; ++c) total += count_chunk(c);
    return total;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: primes_openmp\n"; return 2; }
    Timed serial = timed(count_serial);
    Timed parallel = timed(count_openmp);
    return report("OpenMP", serial, parallel) ? 0 : 1;
}
