// ANCHOR: data
// statistics.hpp - the statistics of chapter 8's data analyser: a summary of a chunk
// that merges exactly (count, mean, M2, min, max), what a worker computes over its
// chunk, the seed's averaging merge, the exact median selected across the sorted
// chunks, and the example's data. No processes here: data_analyser.cpp forks the
// workers; tests/test_statistics.cpp checks the maths.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <queue>
#include <random>
#include <span>
#include <tuple>
#include <vector>

/// Response times in ms that get slower from chunk to chunk (a busier system):
/// exponential with mean 10, 20, 30, ... From a fixed seed: the same on every run.
inline void generate(std::span<double> out, std::size_t chunks) {
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < out.size(); ++i) {
        const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;   // [0, 1)
        const std::size_t chunk = i * chunks / out.size();
        out[i] = -10.0 * static_cast<double>(chunk + 1) * std::log1p(-u);
    }
}
// ANCHOR_END: data

// ANCHOR: moments
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
inline Moments merge(const Moments& a, const Moments& b) {
    Moments r;
    r.n = a.n + b.n;
    const double delta = b.mean - a.mean;
    r.mean = a.mean + delta * b.n / r.n;
    r.m2 = a.m2 + b.m2 + delta * delta * a.n * b.n / r.n;
    r.min = std::min(a.min, b.min);
    r.max = std::max(a.max, b.max);
    return r;
}
// ANCHOR_END: moments

// ANCHOR: chunk
/// What each worker reports about its chunk.
struct ChunkSummary {
    Moments moments;
    double median;   // only used to show the seed's mistake
};

inline double median_of_sorted(std::span<const double> v) {
    const std::size_t h = v.size() / 2;
    return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/// Worker: summarise one chunk and leave it sorted for the median selection.
inline void analyse_chunk(std::span<double> chunk, ChunkSummary& out) {
    out = ChunkSummary{};   // a shared mapping starts as zero bytes: min = 0 would be wrong
    for (double x : chunk) out.moments.add(x);
    std::sort(chunk.begin(), chunk.end());
    out.median = median_of_sorted(chunk);
}

/// The Python seed's merge: plain averages of per-chunk results. Wrong for the std
/// and the median, and for the mean too when the chunks differ in size.
struct Averaged { double mean = 0, stddev = 0, median = 0; };

inline Averaged average_chunks(std::span<const ChunkSummary> chunks) {
    Averaged r;
    std::vector<double> medians;
    const double k = static_cast<double>(chunks.size());
    for (const auto& cs : chunks) {
        r.mean += cs.moments.mean / k;
        r.stddev += cs.moments.stddev() / k;
        medians.push_back(cs.median);
    }
    std::sort(medians.begin(), medians.end());
    r.median = median_of_sorted(medians);
    return r;
}
// ANCHOR_END: chunk

// ANCHOR: select
/// The k-th smallest value (0-based) over several sorted runs: a k-way merge that
/// stops at k. Exact, and it never copies the data into one array.
inline double kth_smallest(const std::vector<std::span<const double>>& runs, std::size_t k) {
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
// ANCHOR_END: select
