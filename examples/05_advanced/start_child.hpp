// ANCHOR: start_child
// start_child.hpp - what named_queue and shared_table share: the error idiom, the
// owner of a child, start() to run a function in a child, and a wait for its end.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <exception>
#include <system_error>

// A failed call throws, naming the call; main (or the child's body) prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

/// Forks a child that runs `body` and ends with _exit whatever happens: never in main's code.
template <class Body> pid_t start(Body body) {
    std::fflush(stdout);  // or the child would print the parent's buffered text again
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {
        int code = 1;
        try { code = body(); } catch (const std::exception& e) { std::fprintf(stderr, "child: %s\n", e.what()); }
        std::fflush(stdout);
        _exit(code);
    }
    return pid;
}

/// Waits for a child that ends by itself; true if it exited with status 0.
inline bool exited_ok(Child& c) {
    int status = 0;
    check(::waitpid(c.pid, &status, 0), "waitpid");
    c.pid = -1;  // reaped: the pid may soon be someone else's
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
// ANCHOR_END: start_child
