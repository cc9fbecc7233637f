// ANCHOR: measure
// ipc_speed.hpp — what the three ipc_speed_* programs share: the message sizes,
// the child's numbered messages, the parent's checks and the figure. Each program
// brings its own channel (send(), receive()), its fork() and its waitpid().
#pragma once
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <system_error>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Three sizes, small counts on purpose: a first impression, well under a second.
struct Row { const char* label; std::size_t size; std::uint64_t count; };
inline constexpr Row kRows[] = {{"64 B", 64, 20'000}, {"4 KiB", 4096, 5'000}, {"64 KiB", 65536, 400}};

/// The child's side: `count` messages, each starting with its sequence number.
/// Catches everything and returns the exit status, for the caller's _exit().
template <class Channel>
int produce(const char* program, Channel& channel, std::size_t size, std::uint64_t count) {
    try {
        std::vector<char> msg(size, 'x');
        for (std::uint64_t i = 0; i < count; ++i) {
            std::memcpy(msg.data(), &i, sizeof i);
            channel.send(msg.data(), size);
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s (child): %s\n", program, e.what());
    } catch (...) {
    }
    return 1;
}

/// The parent's side: receives and checks every message (receive() returns the
/// bytes received). Returns MB/s since t0, or -1 if a message arrived damaged,
/// short or out of order.
template <class Channel>
double consume(Channel& channel, std::size_t size, std::uint64_t count,
               std::chrono::steady_clock::time_point t0) {
    std::vector<char> msg(size);
    bool intact = true;
    for (std::uint64_t i = 0; i < count; ++i) {
        std::size_t n = channel.receive(msg.data(), size);
        std::uint64_t seq;
        std::memcpy(&seq, msg.data(), sizeof seq);
        intact = intact && n == size && seq == i && msg.back() == 'x';
    }
    std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    return intact ? static_cast<double>(size) * static_cast<double>(count) / dt.count() / 1e6 : -1;
}

// The figures are printed, never judged; only damaged data fails the program.
inline int verdict(bool ok) {
    std::printf("%s\n", ok ? "every message arrived complete and in order" : "FAILED: data damaged");
    return ok ? 0 : 1;
}
// ANCHOR_END: measure
