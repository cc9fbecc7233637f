// pipe_no_eof_broken.cpp — BROKEN ON PURPOSE: the reader never sees EOF
// because the parent forgot to close its own copy of the write end.
// Python: the same hang happens with Pipe() when the parent keeps the
// writing Connection open and loops on recv().
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "pipe_no_eof_broken";

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
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

enum class ReadResult { data, eof, timed_out };

// A read that gives up after timeout_ms instead of hanging for ever:
// that is how this example observes the hang and still exits.
ReadResult read_with_timeout(int fd, std::string& out, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, timeout_ms);
    if (ready == -1 && errno == EINTR) return ReadResult::timed_out;
    check(ready, "poll");
    if (ready == 0) return ReadResult::timed_out;
    char buf[256];
    ssize_t n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read");
    if (n == 0) return ReadResult::eof;
    out.append(buf, static_cast<size_t>(n));
    return ReadResult::data;
}

/// Reads until EOF or until nothing happens for timeout_ms.
ReadResult drain(int fd, std::string& out, int timeout_ms) {
    for (;;) {
        ReadResult r = read_with_timeout(fd, out, timeout_ms);
        if (r != ReadResult::data) return r;
    }
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: pipe_no_eof_broken\n"); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");
        Fd read_end(fds[0]), write_end(fds[1]);

        Child writer([&] {
            read_end.reset();
            const char msg[] = "the only message\n";
            check(static_cast<int>(::write(write_end.get(), msg, std::strlen(msg))), "write");
            return 0;                        // the child's write end closes here
        });
        int status = writer.wait();
        std::printf("writer finished with status %d and closed its write end\n", status);

        // THE BUG: the parent never called write_end.reset(), so one write end is
        // still open — its own — and the kernel cannot report EOF.
        std::string text;
        ReadResult first = drain(read_end.get(), text, 500);
        std::printf("reader got %zu bytes, then %s\n", text.size(),
                    first == ReadResult::timed_out ? "no EOF within 500 ms: it would hang for ever"
                                                   : "EOF (unexpected)");

        // THE FIX: close the parent's copy; now read() returns 0 at once.
        write_end.reset();
        ReadResult second = drain(read_end.get(), text, 500);
        std::printf("after the parent closed its write end: %s\n",
                    second == ReadResult::eof ? "EOF" : "still no EOF (unexpected)");

        bool shown = status == 0 && first == ReadResult::timed_out && second == ReadResult::eof;
        std::printf("%s\n", shown ? "shown: EOF needs every write end closed, the reader's own too"
                                  : "FAILED to show the hang");
        return shown ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_no_eof_broken: %s\n", e.what());
        return 1;
    }
}
