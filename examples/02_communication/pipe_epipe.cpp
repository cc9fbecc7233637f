// pipe_epipe.cpp - the fix for pipe_sigpipe_broken: ignore SIGPIPE, and a write
// to a pipe that has no reader fails with EPIPE, an error the program handles,
// instead of killing it. Python does this at start-up: BrokenPipeError.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a descriptor: closes it once, however we leave.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        // The fix, once at start-up: SIGPIPE no longer kills; write() reports EPIPE.
        struct sigaction ignore{};
        ignore.sa_handler = SIG_IGN;
        check(::sigaction(SIGPIPE, &ignore, nullptr), "sigaction");

        int fds[2];
        check(::pipe(fds), "pipe");
        Fd write_end(fds[1]);
        ::close(fds[0]);                 // the reader goes away: no read end is left

        const ssize_t w = ::write(write_end.fd, "x", 1);
        const int err = errno;           // saved at once: printf may change errno
        std::printf("SIGPIPE ignored, no reader: write() returned %zd, errno = %s\n", w,
                    err == EPIPE ? "EPIPE" : "something else");
        if (w != -1 || err != EPIPE) { std::printf("FAILED\n"); return 1; }
        // A real program handles it like any other error: stop writing, clean up.
        std::printf("the writer is still alive and can clean up: handle EPIPE, not a signal\n");
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_epipe: %s\n", e.what());
        return 1;
    }
}
