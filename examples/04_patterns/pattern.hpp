// ANCHOR: header
// pattern.hpp - the plumbing this chapter's programs share, written once so that
// each listing shows its pattern: the error idiom, the owners of a pipe and of a
// child, records sent whole, and main's usage line and catch.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>  // PIPE_BUF
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>
// ANCHOR_END: header
// ANCHOR: owners
// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns both ends: end[0] is read from, end[1] written to. With O_DIRECT it is a
// pipe in packet mode: each read() returns one write(), so readers can share it.
struct Pipe {
    int end[2] = {-1, -1};
    explicit Pipe(int flags = 0) { check(::pipe2(end, O_CLOEXEC | flags), "pipe2"); }
    Pipe(const Pipe&) = delete;  // two owners would close the same numbers twice
    ~Pipe() { close(0), close(1); }
    void close(int i) { if (end[i] != -1) ::close(std::exchange(end[i], -1)); }
};

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        if ((pid = check(::fork(), "fork")) != 0) return;
        try { body(); } catch (...) { _exit(1); }  // the child ends here, whatever happens
        _exit(0);
    }
    Child(const Child&) = delete;  // one owner kills and reaps it
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0; reaped, so no longer ours to kill
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};
// ANCHOR_END: owners
// ANCHOR: records
// One write() of at most PIPE_BUF bytes: the whole record or an error, never
// half, and never mixed with another writer's record on the same pipe.
void send(int fd, const auto& rec) {
    static_assert(sizeof rec <= PIPE_BUF);
    check(static_cast<int>(::write(fd, &rec, sizeof rec)), "write");
}
template <class T> bool receive(int fd, T& rec) {  // false at end-of-file
    const int n = check(static_cast<int>(::read(fd, &rec, sizeof rec)), "read");
    if (n != 0 && n != sizeof rec) throw std::runtime_error("short read");
    return n != 0;
}

// main's frame: no arguments taken; an exception from body() is printed as
// "<name>: <what>" with exit status 1, after body's owners have cleaned up.
template <class Body> int run_main(const char* name, int argc, char* argv[], Body body) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        return body();
    } catch (const std::exception& e) {
        std::cerr << name << ": " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: records
