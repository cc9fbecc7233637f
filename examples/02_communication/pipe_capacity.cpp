// pipe_capacity.cpp - a pipe holds only so much (64 KiB by default on Linux).
// A writer that fills it blocks until someone reads: a parent that waits for
// its child BEFORE reading the child's output waits for ever once the output
// is bigger than this. Python's docs warn of the same with Queue and join().
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
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
    ~Fd() { ::close(fd); }
    int fd;
};

// Writes until the pipe is full. O_NONBLOCK turns "block" into EAGAIN, so
// we can count instead of hanging.
long fill(int fd) {
    check(::fcntl(fd, F_SETFL, O_NONBLOCK), "fcntl(F_SETFL)");
    const std::string chunk(1024, 'x');
    long total = 0;
    for (;;) {
        const ssize_t n = ::write(fd, chunk.data(), chunk.size());
        if (n == -1 && errno == EAGAIN) return total;   // full: a blocking write waits here
        total += check(static_cast<int>(n), "write");
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");
        Fd read_end(fds[0]), write_end(fds[1]);
        const int capacity = check(::fcntl(write_end.fd, F_GETPIPE_SZ), "fcntl(F_GETPIPE_SZ)");
        const long held = fill(write_end.fd);
        std::printf("F_GETPIPE_SZ says %d bytes; with nobody reading, the pipe took %ld\n",
                    capacity, held);
        char buf[4096];                  // a reader makes room...
        const long drained = check(static_cast<int>(::read(read_end.fd, buf, sizeof buf)), "read");
        const long more = fill(write_end.fd);   // ...and the writer can go on
        std::printf("after reading %ld bytes, the writer could write %ld more\n", drained, more);
        const bool ok = held == capacity && more > 0;
        std::printf("%s\n", ok ? "a full pipe stops its writer until someone reads: read, then wait"
                               : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_capacity: %s\n", e.what());
        return 1;
    }
}
