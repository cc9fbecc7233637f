// run_python.hpp — how chapter 6's comparisons with Python (process_pool_vs_python,
// creation_cost_python) start Debian's python3: posix_spawn, a fixed environment,
// its output read through a pipe until it ends.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline long check(long rc, const char* what)
{
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

inline void check_err(int err, const char* what)  // posix_spawn* return the error number
{
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// ANCHOR: run_python
struct Fd {  // closes its descriptor when the scope is left
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { reset(); }
    int fd;
    void reset() { if (fd >= 0) ::close(std::exchange(fd, -1)); }
};

struct Child {  // kills and reaps the child if it is still running when the scope is left
    pid_t pid = -1;
    Child() = default;
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
};

// Runs `/usr/bin/python3 -c script args...`; returns what it printed.
inline std::string run_python(const char* script, const std::vector<std::string>& args)
{
    int ends[2];
    check(::pipe2(ends, O_CLOEXEC), "pipe2");
    Fd from_python{ends[0]}, to_us{ends[1]};
    std::vector<const char*> argv{"/usr/bin/python3", "-c", script};
    for (auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    // A fixed environment, not ours: PYTHON* variables would change what is timed, and an
    // LD_PRELOAD library (the fault tests' shim) is meant for this program, not for CPython.
    const char* env[] = {"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", nullptr};
    posix_spawn_file_actions_t actions;
    check_err(::posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init");
    int err = ::posix_spawn_file_actions_adddup2(&actions, to_us.fd, STDOUT_FILENO);
    Child python;
    if (err == 0)
        err = ::posix_spawn(&python.pid, argv[0], &actions, nullptr,
                            const_cast<char**>(argv.data()), const_cast<char**>(env));
    ::posix_spawn_file_actions_destroy(&actions);
    to_us.reset();  // Python holds the only write end now: its end means end of file
    check_err(err, "posix_spawn");
    std::string text;
    char buf[4096];
    for (long got; (got = check(::read(from_python.fd, buf, sizeof buf), "read")) > 0;)
        text.append(buf, static_cast<std::size_t>(got));
    int status = 0;
    check(::waitpid(std::exchange(python.pid, -1), &status, 0), "waitpid");  // it has ended
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("python3 failed");
    return text;
}
// ANCHOR_END: run_python

