// ANCHOR: check
// pool_step.hpp - the plumbing that every step of this chapter's pool repeats, written
// once: the error idiom, a descriptor owner, whole records on a pipe, the end of every
// child, and main's try/catch. The calls the steps teach (pipe2, fork, kill, waitpid,
// poll) stay in the steps, on their pages. process_pool.hpp has its own versions.
#pragma once
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

namespace step {
// A failed call throws, naming the call; run() prints it.
inline int check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return static_cast<int>(rc);
}

// Owns one descriptor: closed when the owner goes, or earlier by close().
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }  // o closes ours
    ~Fd() { close(); }
    int get() const { return fd_; }
    void close() { if (fd_ != -1) ::close(fd_); fd_ = -1; }

private:
    int fd_ = -1;
};
// ANCHOR_END: check

// ANCHOR: records
// One fixed-size record per write(): at most PIPE_BUF bytes, so the kernel moves it
// whole, and records written by several workers into one pipe never mix.
template <class T> void send(int fd, const T& record) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= PIPE_BUF);
    check(::write(fd, &record, sizeof record), "write");
}

// false at end of file: every write end is closed (its holders are gone).
template <class T> bool receive(int fd, T& record) {
    const int n = check(::read(fd, &record, sizeof record), "read");
    if (n != 0 && n != static_cast<int>(sizeof record)) throw std::runtime_error("a torn record");
    return n != 0;
}
// ANCHOR_END: records

// ANCHOR: child
// Every child ends here: whatever body() does, even throw, it leaves by _exit() with
// body's status (1 if it threw), never by returning into the parent's code.
template <class Body> [[noreturn]] void child(Body body) {
    int code = 1;
    try { code = body(); } catch (...) {}
    std::cout.flush();
    _exit(code);
}

// main() of every step: no arguments; a failed call prints "<program>: <call>: <why>".
template <class Body> int run(int argc, char* argv[], const char* program, Body body) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        return body() ? 0 : 1;       // body() returns whether the step's claim held
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 1;
    }
}
}  // namespace step
// ANCHOR_END: child
