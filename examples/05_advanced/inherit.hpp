// ANCHOR: change
// inherit.hpp — what fork_inherits.cpp and exec_inherits.cpp share: the parent
// changes one attribute of each kind, and observe() reads them all back in
// whichever process calls it (the parent, a fork()ed child, an exec()ed program).
#pragma once
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {   // owns one descriptor
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};

inline int g_value = 0;   // the parent sets 42; a new program starts from 0 again
inline void on_usr2(int) {}

/// Changes one inheritable attribute of each kind in this (the parent) process.
inline void change_one_of_each() {
    check(::setenv("CH05_COLOUR", "blue", 1), "setenv");
    check(::chdir("/"), "chdir");
    ::umask(027);
    struct sigaction ignore{}, handle{};
    ignore.sa_handler = SIG_IGN;
    handle.sa_handler = on_usr2;
    check(::sigaction(SIGUSR1, &ignore, nullptr), "sigaction");   // ignored
    check(::sigaction(SIGUSR2, &handle, nullptr), "sigaction");   // handled
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    check(::sigprocmask(SIG_BLOCK, &hup, nullptr), "sigprocmask");
    rlimit rl{};
    check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
    rl.rlim_cur = 512;
    check(::setrlimit(RLIMIT_NOFILE, &rl), "setrlimit");
    g_value = 42;
}

// ANCHOR_END: change
// ANCHOR: observe
inline std::string disposition(int sig) {
    struct sigaction sa{};
    check(::sigaction(sig, nullptr, &sa), "sigaction");
    return sa.sa_handler == SIG_DFL ? "default" : sa.sa_handler == SIG_IGN ? "ignored" : "handler";
}

struct Row { std::string what, value; };

/// What the calling process sees, one row per attribute, in a fixed order.
inline std::vector<Row> observe(int plain_fd, int cloexec_fd) {
    mode_t mask = ::umask(0);
    ::umask(mask);   // reading the umask means setting it: put it back
    char octal[8], cwd[256] = {};
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mask));
    sigset_t blocked;
    check(::sigprocmask(SIG_BLOCK, nullptr, &blocked), "sigprocmask");
    rlimit rl{};
    check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
    const char* colour = std::getenv("CH05_COLOUR");
    return {{"fd without O_CLOEXEC", ::fcntl(plain_fd, F_GETFD) != -1 ? "open" : "closed"},
            {"fd with O_CLOEXEC", ::fcntl(cloexec_fd, F_GETFD) != -1 ? "open" : "closed"},
            {"environment CH05_COLOUR", colour ? colour : "(unset)"},
            {"working directory", ::getcwd(cwd, sizeof cwd) ? cwd : "?"},
            {"umask", octal},
            {"SIGUSR1 disposition", disposition(SIGUSR1)},
            {"SIGUSR2 disposition", disposition(SIGUSR2)},
            {"SIGHUP in signal mask", ::sigismember(&blocked, SIGHUP) ? "blocked" : "unblocked"},
            {"RLIMIT_NOFILE soft limit", std::to_string(rl.rlim_cur)},
            {"global g_value", std::to_string(g_value)}};
}

/// Prints the two columns and returns how many rows differ from `expected`.
inline int report(const char* column, const std::vector<Row>& parent,
                  const std::vector<Row>& child, const char* const (*expected)[2]) {
    std::printf("%-26s %-9s %s\n", "what", "parent", column);
    int surprises = 0;
    for (size_t i = 0; i < parent.size() && i < child.size(); ++i) {
        bool ok = parent[i].value == expected[i][0] && child[i].value == expected[i][1];
        surprises += !ok;
        std::printf("%-26s %-9s %-11s %s\n", parent[i].what.c_str(), parent[i].value.c_str(),
                    child[i].value.c_str(), ok ? "as expected" : "UNEXPECTED");
    }
    return surprises + (parent.size() != child.size());
}
// ANCHOR_END: observe
