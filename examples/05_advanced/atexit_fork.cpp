// atexit_fork.cpp — why a forked child ends with _exit(), not exit().
// fork() copies the parent's atexit list (and its static objects). exit() in a
// child runs the parent's clean-up once more; _exit() ends the child at once.
// Python's pool workers leave with os._exit() for the same reason.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

pid_t g_main_pid = 0;
constexpr int kRanInChild = 42;

// The parent's clean-up: think "remove the shared-memory name", "flush the log".
void parent_cleanup() {
    bool child = ::getpid() != g_main_pid;
    std::printf("  parent's atexit handler ran in %s\n", child ? "a CHILD" : "the parent");
    std::fflush(stdout);
    if (child) _exit(kRanInChild);   // tell the parent, through the exit status
}

/// Forks a child that ends with _exit() or (on purpose, to show why not) exit().
/// Returns its exit code: kRanInChild if the parent's handler ran in it.
int run_child(bool use_exit, const char* how) {
    std::printf("child that ends with %s:\n", how);
    std::fflush(stdout);   // else the child inherits this line and prints it again
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {
        if (use_exit) std::exit(0);   // the mistake: runs the inherited handler
        _exit(0);                     // right: ends here, runs nothing
    }
    int status = 0;   // the child ends by itself at once: an unbounded wait is safe
    check(::waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: atexit_fork (takes no arguments)\n");
        return 2;
    }
    g_main_pid = ::getpid();
    if (std::atexit(parent_cleanup) != 0) {
        std::fprintf(stderr, "atexit_fork: atexit failed\n");
        return 1;
    }
    try {
        int quick = run_child(false, "_exit(0)");
        int slow = run_child(true, "exit(0)");
        std::printf("exit codes: %d after _exit, %d after exit (%d: the handler ran)\n",
                    quick, slow, kRanInChild);
        std::printf("main returns: the handler runs once more, in the parent\n");
        return quick == 0 && slow == kRanInChild ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "atexit_fork: %s\n", e.what());
        return 1;
    }
}
