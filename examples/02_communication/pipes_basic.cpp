// pipes_basic.cpp — an anonymous pipe between a parent and its children:
// end-of-file, PIPE_BUF atomicity and EPIPE.
// Python: multiprocessing.Pipe(duplex=False) is a pipe like this one.
#include <climits>   // PIPE_BUF
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "pipes_basic";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Owns a file descriptor and closes it exactly once.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { reset(std::exchange(o.fd_, -1)); return *this; }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset(int fd = -1) { if (fd_ != -1) ::close(fd_); fd_ = fd; }
private:
    int fd_;
};

struct Pipe {
    Fd read_end, write_end;
};

Pipe make_pipe() {
    int fds[2];
    check(::pipe(fds), "pipe");
    return {Fd(fds[0]), Fd(fds[1])};
}

/// A forked child that is always reaped: killed and waited for if still running.
class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);             // or the child inherits unflushed text
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
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    Child(const Child&) = delete;
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {                         // returns the exit status
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n == -1 && errno == EINTR) continue;
        check(static_cast<int>(n), "write");
        data.remove_prefix(static_cast<size_t>(n));
    }
}

/// Reads until read() returns 0, i.e. until every write end is closed.
std::string read_until_eof(int fd) {
    std::string all;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == -1 && errno == EINTR) continue;
        check(static_cast<int>(n), "read");
        if (n == 0) return all;          // EOF
        all.append(buf, static_cast<size_t>(n));
    }
}

// 1. One child writes lines; the parent reads until EOF.
bool demo_eof() {
    Pipe p = make_pipe();
    Child writer([&] {
        p.read_end.reset();              // the child only writes
        for (int i = 1; i <= 3; ++i)
            write_all(p.write_end.get(), "message " + std::to_string(i) + "\n");
        return 0;                        // exiting closes the child's write end
    });
    p.write_end.reset();                 // crucial: or read() never returns 0
    std::string text = read_until_eof(p.read_end.get());
    int lines = 0;
    for (char c : text) lines += (c == '\n');
    std::printf("EOF: parent read %d lines, then read() returned 0 (all write ends closed)\n",
                lines);
    return writer.wait() == 0 && lines == 3;
}

// 2. Several writers share one pipe. A write of at most PIPE_BUF bytes is
//    atomic, so records never interleave even without any lock.
bool demo_pipe_buf_atomicity() {
    constexpr int writers = 4, records_each = 50;
    constexpr size_t record = PIPE_BUF;
    Pipe p = make_pipe();
    std::vector<Child> children;
    for (int w = 0; w < writers; ++w) {
        children.emplace_back([&, w] {
            p.read_end.reset();
            std::string rec(record, static_cast<char>('A' + w));
            for (int i = 0; i < records_each; ++i)
                write_all(p.write_end.get(), rec);   // one write() per record
            return 0;
        });
    }
    p.write_end.reset();
    std::string all = read_until_eof(p.read_end.get());
    size_t total = all.size() / record, torn = 0;
    for (size_t r = 0; r < total; ++r) {
        std::string_view rec(all.data() + r * record, record);
        if (rec.find_first_not_of(rec[0]) != std::string_view::npos) ++torn;
    }
    bool ok = all.size() == writers * records_each * record && torn == 0;
    for (auto& c : children) ok = (c.wait() == 0) && ok;
    std::printf("PIPE_BUF = %zu: %zu records from %d writers, %zu torn (expected 0)\n",
                record, total, writers, torn);
    return ok;
}

// 3. Writing to a pipe nobody can read: SIGPIPE, or EPIPE if it is ignored.
bool demo_epipe() {
    Pipe p = make_pipe();
    p.read_end.reset();                  // no reader left
    auto old = std::signal(SIGPIPE, SIG_IGN);
    ssize_t n = ::write(p.write_end.get(), "x", 1);
    int err = errno;
    std::signal(SIGPIPE, old);
    std::printf("write with no reader: returned %zd, errno = %s (SIGPIPE ignored)\n",
                n, err == EPIPE ? "EPIPE" : std::strerror(err));
    return n == -1 && err == EPIPE;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: pipes_basic\n"); return 2; }
    try {
        bool ok = demo_eof();
        ok = demo_pipe_buf_atomicity() && ok;
        ok = demo_epipe() && ok;
        std::printf("%s\n", ok ? "all pipe claims hold" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipes_basic: %s\n", e.what());
        return 1;
    }
}
