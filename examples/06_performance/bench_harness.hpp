// bench_harness.hpp — what chapter 6's IPC benchmarks (ipc_benchmark, shm_ring) share:
// the peer process, the data every channel moves and checks, the one-process baseline
// and the spread of a set of samples. The channels themselves are in the programs.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

using Clock = std::chrono::steady_clock;

inline double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

constexpr std::size_t kMaxSize = 1 << 20;  // the largest message

// ANCHOR: child
/// A forked child running fn(); killed and reaped if still running at scope exit.
/// The child ends in _exit whatever fn() does: an exception never unwinds
/// into the parent's code. It ends by itself: all its waits are bounded too.
class Child {
public:
    explicit Child(const std::function<void()>& fn) {
        std::fflush(stdout);  // unflushed output would be printed twice
        pid_ = static_cast<pid_t>(check(::fork(), "fork"));
        if (pid_ == 0) {
            int code = 0;
            try {
                fn();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s peer: %s\n", program_invocation_short_name, e.what());
                code = 1;
            }
            std::fflush(stdout);
            ::_exit(code);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    void join() {
        int status = 0;
        check(::waitpid(pid_, &status, 0), "waitpid");
        pid_ = -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("the benchmark peer failed");
    }

private:
    pid_t pid_ = -1;
};
// ANCHOR_END: child

struct Spread {
    double median, lo, hi;
};

inline double quantile(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    double pos = q * static_cast<double>(v.size() - 1);
    auto i = static_cast<std::size_t>(pos);
    double frac = pos - static_cast<double>(i);
    return i + 1 < v.size() ? v[i] * (1 - frac) + v[i + 1] * frac : v[i];
}

// ANCHOR: data
/// The data every channel moves: 2 MiB that the sender cycles through, so no
/// channel and not the baseline copies one hot buffer again and again. Word k of the pool holds pattern(k), in which every byte varies with
/// k; message number seq, taken from offset
/// `at`, carries seq in its first word. The receiver checks every word, so a
/// message that arrived damaged, shifted or out of order is caught, and every
/// receiver reads every byte it was sent.
constexpr std::size_t kPool = 2 * kMaxSize;

constexpr std::uint64_t pattern(std::uint64_t k) { return (k + 1) * 0x9E3779B97F4A7C15u; }

inline std::byte* source_pool() {
    static std::vector<std::uint64_t> pool(kPool / 8);
    return reinterpret_cast<std::byte*>(pool.data());
}

/// Before each measurement: word k = pattern(k) again (stamps of another message
/// size would sit in the middle of this size's messages).
inline void reset_pool() {
    auto* words = reinterpret_cast<std::uint64_t*>(source_pool());
    for (std::size_t k = 0; k < kPool / 8; ++k) words[k] = pattern(k);
}

/// Where message number seq of n bytes starts in a 2 MiB buffer (n divides it).
inline std::size_t offset_of(std::uint64_t seq, std::size_t n) { return seq * n % kPool; }

/// Sender: stamp message seq in the pool and return it, ready to send.
inline const std::byte* next_message(std::uint64_t seq, std::size_t n) {
    std::byte* msg = source_pool() + offset_of(seq, n);
    std::memcpy(msg, &seq, sizeof seq);
    return msg;
}

/// Receiver: read every word of message seq and compare it with what was sent.
inline void verify(std::span<const std::byte> msg, std::uint64_t seq) {
    std::uint64_t first = offset_of(seq, msg.size()) / 8;  // the message's first word in the pool
    std::uint64_t word, bad = 0;
    std::memcpy(&word, msg.data(), 8);
    bad |= word ^ seq;
    for (std::size_t j = 1; j < msg.size() / 8; ++j) {
        std::memcpy(&word, msg.data() + 8 * j, 8);
        bad |= word ^ pattern(first + j);  // no branch per word: the loop vectorises
    }
    if (bad != 0)
        throw std::runtime_error("message " + std::to_string(seq) + " arrived damaged or out of order");
}
// ANCHOR_END: data

// ANCHOR: baseline
/// The baseline: the same work in one process, without IPC. Each message is
/// copied from the same cold 2 MiB pool into a 2 MiB buffer, cycling through it
/// like the channels, and then every byte is checked: one copy plus one checking
/// read, what shm_ring's zero-copy consumer and its producer do between them.
inline Spread measure_memcpy_verify(std::size_t size, std::size_t count, int repeats) {
    reset_pool();
    std::vector<std::byte> dst(kPool, std::byte{1});  // touched: no page faults
    std::vector<double> mib_s;
    for (int r = 0; r < repeats + 1; ++r) {
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            std::byte* to = dst.data() + offset_of(i, size);
            std::memcpy(to, next_message(i, size), size);
            verify({to, size}, i);
        }
        double s = seconds(Clock::now() - t0);
        if (r > 0) mib_s.push_back(static_cast<double>(size * count) / s / (1 << 20));
    }
    return {quantile(mib_s, 0.5), quantile(mib_s, 0), quantile(mib_s, 1)};
}
// ANCHOR_END: baseline

/// The 1-minute load average: how busy the machine was while we measured.
inline std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string first;
    if (!(in >> first)) throw std::runtime_error("cannot read /proc/loadavg");
    return first;
}

