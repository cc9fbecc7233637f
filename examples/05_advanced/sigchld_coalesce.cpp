// sigchld_coalesce.cpp — SIGCHLD does not count: three exits, one signal.
// A standard signal is either pending or not; while SIGCHLD is blocked, three
// children exit and one SIGCHLD waits. So a SIGCHLD reader reaps in a loop,
// waitpid(-1, WNOHANG), until no exited child is left.
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Owns one file descriptor.
struct Fd { int fd; ~Fd() { ::close(fd); } };

/// Owns the children: kills and reaps any we have not reaped if we leave early.
struct Children : std::vector<pid_t> {
    Children() = default;
    Children(const Children&) = delete;
    ~Children() { for (pid_t p : *this) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: sigchld_coalesce (takes no arguments)\n");
        return 2;
    }
    try {
        sigset_t chld;   // blocked before any child exists: no SIGCHLD can slip by
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        check(::sigprocmask(SIG_BLOCK, &chld, nullptr), "sigprocmask");
        Fd sigfd{check(::signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC), "signalfd")};

        Children children;
        std::fflush(stdout);
        for (int i = 1; i <= 3; ++i) {
            pid_t pid = check(::fork(), "fork");
            if (pid == 0) _exit(i);   // each child exits at once
            children.push_back(pid);
        }
        for (pid_t pid : children) {   // until each has exited; WNOWAIT: not reaped yet
            siginfo_t info{};
            check(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), "waitid");
        }
        std::printf("3 children have exited (not yet reaped)\n");

        int signals = 0;   // read every SIGCHLD that is pending
        for (signalfd_siginfo si; ::read(sigfd.fd, &si, sizeof si) == sizeof si;) ++signals;
        std::printf("SIGCHLD read from the signalfd: %d time(s)\n", signals);

        int reaped = 0;    // one signal, so reap everything that has exited
        for (pid_t pid; (pid = ::waitpid(-1, nullptr, WNOHANG)) > 0; ++reaped)
            std::erase(children, pid);   // reaped: its PID may belong to someone else now
        std::printf("waitpid(-1, WNOHANG) loop reaped %d children\n", reaped);
        bool ok = signals == 1 && reaped == 3;
        std::printf("%s\n", ok ? "ok: one SIGCHLD stood for three exits; the loop reaped them all"
                               : "FAIL: unexpected count");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "sigchld_coalesce: %s\n", e.what());
        return 1;
    }
}
