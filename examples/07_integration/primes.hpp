// ANCHOR: job
// primes.hpp — the job that primes_fork_pool.cpp, primes_openmp.cpp and primes_tbb.cpp
// share: count the primes below one million by trial division, in 64 chunks. Later
// chunks hold bigger numbers and cost more, so every runtime hands chunks out
// dynamically. The serial count is the reference every parallel count must equal.
#pragma once
#include <chrono>
#include <cstdio>

constexpr long kLimit = 1'000'000;      // count primes in [0, kLimit)
constexpr long kPrimesBelowLimit = 78'498;
constexpr int kChunks = 64;
constexpr int kWorkers = 2;             // this site is built on 2 cores

inline bool is_prime(long n) {
    if (n < 2) return false;
    for (long d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

// The unit of work every runtime hands out: one chunk of the range.
inline long count_chunk(int chunk) {
    long lo = kLimit * chunk / kChunks, hi = kLimit * (chunk + 1) / kChunks, count = 0;
    for (long n = lo; n < hi; ++n) count += is_prime(n);
    return count;
}

inline long count_serial() {
    long total = 0;
    for (int c = 0; c < kChunks; ++c) total += count_chunk(c);
    return total;
}

struct Timed { long count; double ms; };

template <class Job> Timed timed(Job job) {
    auto t0 = std::chrono::steady_clock::now();
    long count = job();
    std::chrono::duration<double, std::milli> dt = std::chrono::steady_clock::now() - t0;
    return {count, dt.count()};
}

// Prints both runs. The times are shown, never judged (they vary 3x between machines);
// the counts decide: true only if both equal the known number of primes.
inline bool report(const char* name, Timed serial, Timed parallel) {
    std::printf("job: count primes below %ld in %d chunks, %d workers\n", kLimit, kChunks, kWorkers);
    std::printf("%-20s %7ld primes %8.1f ms\n", "serial", serial.count, serial.ms);
    std::printf("%-20s %7ld primes %8.1f ms   speedup %.2fx\n", name, parallel.count,
                parallel.ms, serial.ms / parallel.ms);
    bool ok = serial.count == kPrimesBelowLimit && parallel.count == serial.count;
    std::printf("%s: both counts %s %ld, the known number of primes below %ld\n",
                ok ? "correct" : "WRONG", ok ? "equal" : "should equal",
                kPrimesBelowLimit, kLimit);
    return ok;
}
// ANCHOR_END: job
