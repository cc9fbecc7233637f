// data_analyser.cpp - chunked statistics in parallel, merged correctly.
//
// Four worker processes each summarise one chunk of a shared array. The parent then
// merges the summaries twice: the way the Python seed does (mean of the chunk
// standard deviations, median of the chunk medians) and the right way (Chan et al.'s
// merge of moments; the median selected from all chunks), and compares both with a
// one-pass computation over the whole data set.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <queue>
#include <random>
#include <span>
#include <system_error>
#include <tuple>
#include <vector>

namespace {

constexpr int kChunks = 4;
constexpr std::size_t kCount = 400'000;
constexpr std::size_t kChunkSize = kCount / kChunks;

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: children
/// Owns forked children. wait_all() reaps them and says whether all exited with 0;
/// the destructor kills and reaps any still running (early return, exception).
class ChildGroup {
public:
    ChildGroup() = default;
    ChildGroup(const ChildGroup&) = delete;
    ChildGroup& operator=(const ChildGroup&) = delete;
    ~ChildGroup() {  // SIGKILL cannot be caught: these waits are bounded
        for (pid_t pid : pids_) if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
    void add(pid_t pid) { pids_.push_back(pid); }
    bool wait_all() {
        bool ok = true;
        for (pid_t pid : pids_) {
            int status;
            check(waitpid(pid, &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return ok;
    }
private:
    std::vector<pid_t> pids_;
};
// ANCHOR_END: children

/// Mergeable summary: count, mean, M2 (sum of squared deviations), min, max.
struct Moments {
    double n = 0, mean = 0, m2 = 0;
    double min = INFINITY, max = -INFINITY;

    void add(double x) {               // Welford's update: one pass, numerically stable
        n += 1;
        const double delta = x - mean;
        mean += delta / n;
        m2 += delta * (x - mean);
        min = std::min(min, x);
        max = std::max(max, x);
    }
    double stddev() const { return std::sqrt(m2 / (n - 1)); }   // sample std, like pandas
};

/// Chan, Golub & LeVeque (1979): combine two summaries exactly. The M2 term needs the
/// distance between the two means - the spread *between* chunks that averaging the
/// chunk standard deviations throws away.
Moments merge(const Moments& a, const Moments& b) {
    Moments r;
    r.n = a.n + b.n;
    const double delta = b.mean - a.mean;
    r.mean = a.mean + delta * b.n / r.n;
    r.m2 = a.m2 + b.m2 + delta * delta * a.n * b.n / r.n;
    r.min = std::min(a.min, b.min);
    r.max = std::max(a.max, b.max);
    return r;
}

/// What each worker reports about its chunk.
struct ChunkSummary {
    Moments moments;
    double median;   // only used to show the seed's mistake
};

/// The shared mapping: the data (each worker sorts its own chunk in place) and one
/// summary slot per worker.
struct Shared {
    double data[kCount];
    ChunkSummary summary[kChunks];
};

double median_of_sorted(std::span<const double> v) {
    const std::size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/// Response times in ms that get slower from chunk to chunk (a busier system):
/// exponential with mean 10, 20, 30, 40. From a fixed seed: the same on every run.
void generate(std::span<double> out) {
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;   // [0, 1)
        out[i] = -10.0 * static_cast<double>(i / kChunkSize + 1) * std::log1p(-u);
    }
}

/// Worker: summarise one chunk and leave it sorted for the median selection.
void analyse_chunk(std::span<double> chunk, ChunkSummary& out) {
    out = ChunkSummary{};   // the mapping starts as zero bytes: min = 0 would be wrong
    for (double x : chunk) out.moments.add(x);
    std::sort(chunk.begin(), chunk.end());
    out.median = median_of_sorted(chunk);
}

/// The k-th smallest value (0-based) over several sorted runs: a k-way merge that
/// stops at k. Exact, and it never copies the data into one array.
double kth_smallest(const std::vector<std::span<const double>>& runs, std::size_t k) {
    using Head = std::tuple<double, std::size_t, std::size_t>;   // value, run, index
    std::priority_queue<Head, std::vector<Head>, std::greater<>> heads;
    for (std::size_t r = 0; r < runs.size(); ++r)
        if (!runs[r].empty()) heads.emplace(runs[r][0], r, 0);
    for (;; --k) {
        auto [value, r, i] = heads.top();
        if (k == 0) return value;
        heads.pop();
        if (i + 1 < runs[r].size()) heads.emplace(runs[r][i + 1], r, i + 1);
    }
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::fabs(b); }

void row(const char* name, double one_pass, double seed, double right) {
    std::printf("%-8s %14.6g %14.6g %14.6g\n", name, one_pass, seed, right);
}

}  // namespace

int run() {
    // ANCHOR: shared
    void* mem = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) check(-1, "mmap");
    struct Unmap { void* p; ~Unmap() { munmap(p, sizeof(Shared)); } } unmap{mem};
    Shared& s = *static_cast<Shared*>(mem);   // plain data: usable as the zero bytes mmap gives
    generate(s.data);
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
    // ANCHOR_END: shared

    // ANCHOR: map
    // Map: one worker process per chunk; results land in the shared summary slots.
    ChildGroup children;
    for (int c = 0; c < kChunks; ++c) {
        std::fflush(stdout);
        pid_t pid = static_cast<pid_t>(check(fork(), "fork"));
        if (pid == 0) {  // the child ends here, whatever happens: never in main's code
            int code = 1;
            try {
                analyse_chunk(std::span(s.data + c * kChunkSize, kChunkSize), s.summary[c]);
                code = 0;
            } catch (...) {}
            std::fflush(stdout);
            _exit(code);
        }
        children.add(pid);
    }
    bool ok = children.wait_all();   // the workers end by themselves
    // ANCHOR_END: map

    // Reduce, the seed's way: plain averages of per-chunk results.
    double seed_mean = 0, seed_std = 0;
    std::vector<double> medians;
    for (auto& cs : s.summary) {
        seed_mean += cs.moments.mean / kChunks;
        seed_std += cs.moments.stddev() / kChunks;
        medians.push_back(cs.median);
    }
    std::sort(medians.begin(), medians.end());
    const double seed_median = median_of_sorted(medians);

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
    row("mean", ref.mean, seed_mean, all.mean);
    row("std", ref.stddev(), seed_std, all.stddev());
    row("min", ref.min, all.min, all.min);
    row("max", ref.max, all.max, all.max);
    row("median", ref_median, seed_median, median);
    std::printf("(the mean of the chunk means is right here only because the chunks are equal)\n");
    std::printf("seed's std is off by %+.1f %%, seed's median by %+.1f %%\n",
                100 * (seed_std / ref.stddev() - 1), 100 * (seed_median / ref_median - 1));

    const bool right = ref.n == all.n && close(all.mean, ref.mean) &&
                       close(all.stddev(), ref.stddev()) && all.min == ref.min &&
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
