// creation_cost.cpp — how long does it take to start (and finish) a worker?
// std::thread, vfork, fork, posix_spawn and fork+exec, measured in the same run on
// the same machine. Median and [min..max] per creation. (creation_cost_python.cpp:
// Python's Process; fork_page_tables.cpp: the fork() call alone, and why it gets
// slower as the parent grows.)
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <string_view>
#include <thread>

#include "stats.hpp"  // Stats, time_each(): each start timed on its own

extern char** environ;

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what)
{
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

void check_err(int err, const char* what)  // posix_spawn returns the error number
{
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

/// Wait for a child that ends by itself (every child here exits at once).
void reap(pid_t pid)
{
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("a child failed");
}

void thread_once() { std::thread([] {}).join(); }

void fork_once()
{
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) ::_exit(0);
    reap(pid);
}

void vfork_once()
{
    // vfork: the child borrows the parent's memory and the parent sleeps until it
    // execs or _exits. Nothing else is allowed in the child, not even check().
    pid_t pid = ::vfork();
    if (pid == 0) ::_exit(0);
    reap(static_cast<pid_t>(check(pid, "vfork")));
}

void posix_spawn_true()
{
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    pid_t pid;
    check_err(::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ), "posix_spawn");
    reap(pid);
}

void fork_exec_true()
{
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) {
        ::execl("/bin/true", "true", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    reap(pid);
}

void print_row(const char* how, const Stats& s)
{
    std::printf("%-40s %9.1f  [%8.1f .. %9.1f]\n", how, s.median, s.min, s.max);
}

}  // namespace

int run(bool full)
{
    const int n = full ? 1000 : 50, n_exec = full ? 300 : 20;
    std::printf("mode: %s (%d creations each, %d with exec; --full for more)\n",
                full ? "full" : "quick", n, n_exec);
    std::fflush(stdout);  // every fork below starts with an empty buffer

    std::printf("%-40s %9s  %s\n", "start + wait for one worker", "median us", "[min .. max]");
    Stats thread = time_each(n, thread_once);
    print_row("std::thread + join", thread);
    print_row("vfork + _exit + waitpid", time_each(n, vfork_once));
    Stats fork = time_each(n, fork_once);
    print_row("fork + _exit + waitpid", fork);
    print_row("posix_spawn /bin/true + waitpid", time_each(n_exec, posix_spawn_true));
    print_row("fork + exec /bin/true + waitpid", time_each(n_exec, fork_exec_true));

    // A ratio to report, not a law to enforce: a busy CPU can delay a thread's start
    // as much as a fork (worst 1.8x seen against the 2x expected).
    std::printf("\n%-62s %6.1fx (expected > 2.0x; reported, not enforced)\n",
                "a thread is cheaper to start than a process (fork/thread)",
                fork.median / thread.median);
    return 0;
}

int main(int argc, char** argv)
{
    bool full = argc == 2 && std::string_view(argv[1]) == "--full";
    if (argc > 1 && !full) {
        std::fprintf(stderr, "usage: %s [--full]\n", argv[0]);
        return 2;
    }
    try {
        return run(full);
    } catch (const std::exception& e) {  // every child here has been reaped, or never started
        std::fflush(stdout);
        std::fprintf(stderr, "creation_cost: %s\n", e.what());
        return 1;
    }
}
