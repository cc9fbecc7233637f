// die_with_parent.cpp — Python's daemon=True: the child must not outlive its parent.
//
// prctl(PR_SET_PDEATHSIG): the kernel signals the child when its parent dies. If the
// parent dies before the child calls prctl(), no signal ever comes: the child checks
// getppid() against the PID saved before fork(). Both orders run: normal, and racy.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// The grandchild: arm the signal, then make sure the parent was alive when we did.
[[noreturn]] void guarded_child(pid_t expected_parent, int ready_fd, bool late) {
    while (late && ::getppid() == expected_parent) ::usleep(1000);   // bad luck, simulated
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) _exit(11);
    // If the parent died before prctl(), we were re-parented already: leave now.
    if (::getppid() != expected_parent) _exit(3);
    if (::write(ready_fd, "x", 1) != 1) _exit(12);   // "armed"
    ::sleep(5);   // daemon=True work would go on for ever; 5 s bounds a broken kernel
    _exit(4);
}

/// Forks a "parent" that forks the guarded child and exits; returns the child's status.
int parent_dies_first(bool late) {
    int ready[2];
    check(::pipe(ready), "pipe");
    std::fflush(stdout);
    pid_t parent = ::fork();
    if (parent == 0) {   // the middle process: async-signal-safe calls, then _exit
        pid_t me = ::getpid();   // saved BEFORE fork()
        pid_t child = ::fork();
        if (child == -1) _exit(1);   // main reports "the middle process failed"
        if (child == 0) guarded_child(me, ready[1], late);
        ::close(ready[1]);   // a dead child now means end-of-file, not a hang
        if (char c; !late && ::read(ready[0], &c, 1) != 1) _exit(13);   // wait until armed
        _exit(0);   // the parent dies here
    }
    for (int fd : ready) ::close(fd);
    int status = 0;
    check(::waitpid(check(parent, "fork"), &status, 0), "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the middle process failed");
    check(::waitpid(-1, &status, 0), "waitpid");   // the orphan, re-parented to us
    return status;
}

void report(const char* what, int status, bool ok, const char* proof) {
    if (WIFSIGNALED(status)) std::printf("%s: child killed by SIG%s\n", what, ::sigabbrev_np(WTERMSIG(status)));
    else std::printf("%s: child exited with code %d\n", what, WEXITSTATUS(status));
    std::printf("%s %s\n", ok ? "ok:" : "FAIL:", proof);
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: die_with_parent (takes no arguments)\n");
        return 2;
    }
    try {
        // Adopt orphaned descendants so that we can reap them (else: PID 1).
        check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl(PR_SET_CHILD_SUBREAPER)");
        int normal = parent_dies_first(false);
        bool killed = WIFSIGNALED(normal) && WTERMSIG(normal) == SIGTERM;
        report("armed, then the parent exited", normal, killed,
               "the kernel killed the child when its parent died");
        int late = parent_dies_first(true);
        bool noticed = WIFEXITED(late) && WEXITSTATUS(late) == 3;
        report("armed after the parent had exited", late, noticed,
               "getppid() != saved parent PID, so the child left on its own");
        return killed && noticed ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "die_with_parent: %s\n", e.what());
        return 1;
    }
}
