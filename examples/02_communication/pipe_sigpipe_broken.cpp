// pipe_sigpipe_broken.cpp — BROKEN ON PURPOSE: the reader goes away and the
// writer is killed by SIGPIPE, silently, in the middle of a write().
// Python ignores SIGPIPE at start-up, so there you get BrokenPipeError instead;
// the end shows that fix: with SIGPIPE ignored, write() fails with EPIPE.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "pipe_sigpipe_broken";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    int get() const { return fd_; }
    void reset() { if (fd_ != -1) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

/// The raw wait status, because here we want to see *how* the child ended.
class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try { rc = body(); } catch (const std::exception& e) {
                std::fprintf(stderr, "%s (child): %s\n", program, e.what());
            } catch (...) {}
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait_status(); } }
    int wait_status() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return status;
    }
private:
    pid_t pid_ = -1;
};

// Writes numbered lines for ever. It only stops if something kills it.
int endless_writer(int fd) {
    // An ignored SIGPIPE is inherited across fork and exec: restore the
    // default action so this demo does not depend on who started us.
    std::signal(SIGPIPE, SIG_DFL);
    for (long i = 0;; ++i) {
        std::string line = "line " + std::to_string(i) + "\n";
        // With no reader left, write() never returns: SIGPIPE kills us first.
        check(static_cast<int>(::write(fd, line.data(), line.size())), "write");
    }
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: pipe_sigpipe_broken\n"); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");
        Fd read_end(fds[0]), write_end(fds[1]);

        Child writer([&] { read_end.reset(); return endless_writer(write_end.get()); });
        write_end.reset();

        // Read one chunk, then lose interest: closing the last read end means
        // the writer's next write() has nobody to deliver to.
        char buf[64];
        ssize_t n = check(static_cast<int>(::read(read_end.get(), buf, sizeof buf)), "read");
        std::printf("reader read %zd bytes, then closed the read end\n", n);
        read_end.reset();

        int status = writer.wait_status();
        bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE;
        if (WIFSIGNALED(status))
            std::printf("waitpid: writer was killed by signal %s (%d), no error message printed\n",
                        WTERMSIG(status) == SIGPIPE ? "SIGPIPE" : strsignal(WTERMSIG(status)),
                        WTERMSIG(status));
        else
            std::printf("waitpid: writer exited with status %d (unexpected)\n", WEXITSTATUS(status));

        // THE FIX: ignore SIGPIPE (Python does at start-up); the write then
        // fails with EPIPE, an error the program can handle.
        check(::pipe(fds), "pipe");
        ::close(fds[0]);                 // no reader at all
        std::signal(SIGPIPE, SIG_IGN);
        ssize_t w = ::write(fds[1], "x", 1);
        int err = errno;
        ::close(fds[1]);
        std::printf("with SIGPIPE ignored: write() returned %zd, errno = %s\n", w,
                    err == EPIPE ? "EPIPE" : std::strerror(err));
        const bool shown = killed && w == -1 && err == EPIPE;
        std::printf("%s\n", shown ? "shown: a write to a pipe without readers raises SIGPIPE"
                                  : "FAILED to show SIGPIPE");
        return shown ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_sigpipe_broken: %s\n", e.what());
        return 1;
    }
}
