// pipe_capacity.cpp - a pipe is a bounded queue: how many records fit before
// write() would block? An ordinary pipe counts bytes; a pipe in packet mode
// (O_DIRECT) keeps one record per page-sized slot of its buffer.
// Python: Queue(maxsize=n), whose put() blocks when it is full.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns both ends. O_NONBLOCK: a full pipe answers EAGAIN instead of blocking.
struct Pipe {
    int read = -1, write = -1;
    explicit Pipe(int flags) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC | O_NONBLOCK | flags), "pipe2");
        read = fds[0], write = fds[1];
    }
    Pipe(const Pipe&) = delete;
    ~Pipe() { ::close(read), ::close(write); }
};

struct Record { int seq, value; };  // 8 bytes

// Writes records until the pipe is full; returns how many fit.
int fill(const Pipe& p) {
    for (int n = 0;; ++n) {
        const Record r{n, 0};
        if (::write(p.write, &r, sizeof r) == -1) {
            if (errno == EAGAIN) return n;  // full: a blocking write() would wait here
            check(-1, "write");
        }
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Pipe plain(0), packets(O_DIRECT), small(O_DIRECT);
        const int bytes = check(::fcntl(plain.write, F_GETPIPE_SZ), "fcntl");
        const int page = ::getpagesize();
        check(::fcntl(small.write, F_SETPIPE_SZ, 4 * page), "fcntl");  // like maxsize=4
        const int a = fill(plain), b = fill(packets), c = fill(small);
        std::cout << "pipe buffer: " << bytes << " bytes (F_GETPIPE_SZ), page " << page
                  << " bytes\n"
                  << "ordinary pipe: " << a << " records of " << sizeof(Record) << " bytes fit\n"
                  << "packet-mode pipe: " << b << " records fit, one per slot\n"
                  << "packet-mode pipe after F_SETPIPE_SZ(" << 4 * page << "): " << c
                  << " records fit\n";

        Record r;  // one read() makes room for exactly one more record
        check(static_cast<int>(::read(packets.read, &r, sizeof r)), "read");
        const int d = fill(packets);
        std::cout << "after one read(), " << d << " more write() fits\n";
        const bool ok = a * static_cast<int>(sizeof(Record)) == bytes && b == bytes / page &&
                        c == 4 && d == 1;
        std::cout << (ok ? "a full pipe stops its writer: back-pressure, counted in records\n"
                         : "FAILED: unexpected capacities\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pipe_capacity: " << e.what() << '\n';
        return 1;
    }
}
