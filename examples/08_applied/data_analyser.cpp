// data_analyser.cpp - chunked statistics in parallel, merged correctly.
//
// Four worker processes each summarise one chunk of a shared array. The parent then
// merges the summaries twice: the way the Python seed does (mean of the chunk
// standard deviations, median of the chunk medians) and the right way (Chan et al.'s
// merge of moments; the median selected from all chunks), and compares both with a
// one-pass computation over the whole data set. The statistics: statistics.hpp.
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <span>
#include <vector>

#include "plumbing.hpp"
#include "statistics.hpp"

namespace {

constexpr int kChunks = 4;
constexpr std::size_t kCount = 400'000;
constexpr std::size_t kChunkSize = kCount / kChunks;

/// The shared mapping: the data (each worker sorts its own chunk in place) and one
/// summary slot per worker.
struct Shared {
    double data[kCount];
    ChunkSummary summary[kChunks];
};

bool agrees(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::fabs(b); }

void row(const char* name, double one_pass, double seed, double right) {
    std::printf("%-8s %14.6g %14.6g %14.6g\n", name, one_pass, seed, right);
}

}  // namespace

int run() {
    void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) check(-1, "mmap");
    struct Unmap { void* p; ~Unmap() { munmap(p, sizeof(Shared)); } } unmap{mem};
    Shared& s = *static_cast<Shared*>(mem);   // plain data: usable as the zero bytes mmap gives
    generate(s.data, kChunks);
    std::printf("data: %zu response times (ms) in %d chunks of %zu; the mean grows 10, 20, 30, 40\n",
                kCount, kChunks, kChunkSize);

    // The reference: one pass over everything, in the parent, before anyone sorts.
    Moments ref;
    for (double x : s.data) ref.add(x);
    std::vector<double> copy(std::begin(s.data), std::end(s.data));
    std::nth_element(copy.begin(), copy.begin() + kCount / 2, copy.end());
    const double upper = copy[kCount / 2];
    const double lower = *std::max_element(copy.begin(), copy.begin() + kCount / 2);
    const double ref_median = (lower + upper) / 2;

    // Map: one worker process per chunk; results land in the shared summary slots.
    ChildGroup children;
    for (int c = 0; c < kChunks; ++c)
        children.add(start({}, [&s, c] {   // the child runs this, then _exit
            analyse_chunk(std::span(s.data + c * kChunkSize, kChunkSize), s.summary[c]);
        }));
    bool ok = children.wait_all();   // the workers end by themselves

    // Reduce, the seed's way: plain averages of per-chunk results.
    const Averaged seed = average_chunks(s.summary);

    // Reduce, the right way.
    Moments all;
    std::vector<std::span<const double>> runs;
    for (int c = 0; c < kChunks; ++c) {
        all = merge(all, s.summary[c].moments);
        runs.emplace_back(s.data + c * kChunkSize, kChunkSize);
    }
    const double median = (kth_smallest(runs, kCount / 2 - 1) + kth_smallest(runs, kCount / 2)) / 2;

    std::printf("%-8s %14s %14s %14s\n", "", "one pass", "seed's merge", "right merge");
    row("count", ref.n, all.n, all.n);
    row("mean", ref.mean, seed.mean, all.mean);
    row("std", ref.stddev(), seed.stddev, all.stddev());
    row("min", ref.min, all.min, all.min);
    row("max", ref.max, all.max, all.max);
    row("median", ref_median, seed.median, median);
    std::printf("(the mean of the chunk means is right here only because the chunks are equal)\n");
    std::printf("seed's std is off by %+.1f %%, seed's median by %+.1f %%\n",
                100 * (seed.stddev / ref.stddev() - 1), 100 * (seed.median / ref_median - 1));

    const bool right = ref.n == all.n && agrees(all.mean, ref.mean) &&
                       agrees(all.stddev(), ref.stddev()) && all.min == ref.min &&
                       all.max == ref.max && median == ref_median;
    std::printf("right merge equals one pass (median exactly, mean/std to 1e-9): %s\n",
                right ? "yes" : "no");
    return ok && right ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "data_analyser: " << e.what() << '\n';
        return 1;
    }
}
