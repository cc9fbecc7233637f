// pipe_sigpipe_broken.cpp - BROKEN ON PURPOSE: the reader goes away and the
// writer is killed by SIGPIPE, silently, in the middle of a write().
// Python ignores SIGPIPE at start-up, so there you get BrokenPipeError instead;
// pipe_epipe.cpp shows that fix.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Writes numbered lines for ever. It only stops if something kills it.
[[noreturn]] void endless_writer(int fd) {
    // An ignored SIGPIPE is inherited across fork and exec: restore the
    // default action so this demo does not depend on who started us.
    std::signal(SIGPIPE, SIG_DFL);
    for (long i = 0;; ++i) {
        std::string line = "line " + std::to_string(i) + "\n";
        if (::write(fd, line.data(), line.size()) == -1)
            _exit(1);                    // not reached: SIGPIPE kills us first
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");
        std::fflush(stdout);             // else the child prints our buffer again
        Child writer(check(::fork(), "fork"));
        if (writer.pid == 0) {           // the child: it never returns into main's code
            ::close(fds[0]);
            endless_writer(fds[1]);
        }
        ::close(fds[1]);
        // Read one chunk, then lose interest: closing the last read end means
        // the writer's next write() has nobody to deliver to.
        char buf[64];
        ssize_t n = check(static_cast<int>(::read(fds[0], buf, sizeof buf)), "read");
        std::printf("reader read %zd bytes, then closed the read end\n", n);
        ::close(fds[0]);

        int status = 0;                  // the writer ends by itself: SIGPIPE
        check(::waitpid(writer.pid, &status, 0), "waitpid");
        writer.pid = -1;                 // reaped
        const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE;
        if (WIFSIGNALED(status))
            std::printf("waitpid: writer was killed by signal SIG%s (%d), no error message printed\n",
                        sigabbrev_np(WTERMSIG(status)), WTERMSIG(status));
        else
            std::printf("waitpid: writer exited with status %d (unexpected)\n", WEXITSTATUS(status));

        std::printf("%s\n", killed ? "shown: a write to a pipe without readers raises SIGPIPE"
                                   : "FAILED to show SIGPIPE");
        return killed ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_sigpipe_broken: %s\n", e.what());
        return 1;
    }
}
