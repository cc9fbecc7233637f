// ipc_speed_streams.cpp — how fast a pipe and a socketpair move messages of
// three sizes from one process to another (what they share: ipc_speed.hpp).
// A first impression of this machine, printed and never judged; chapter 6
// measures properly.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ipc_speed.hpp"

namespace {

/// One direction, owned: fd[1] writes, fd[0] reads. A socketpair is two-way;
/// here it is used one way, exactly like the pipe it is compared with.
struct Stream {
    explicit Stream(bool socket) {
        if (socket) check(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd), "socketpair");
        else check(::pipe(fd), "pipe");
    }
    ~Stream() { for (int f : fd) if (f != -1) ::close(f); }
    Stream(const Stream&) = delete;
    // A stream has no message boundaries: loop until all n bytes have moved.
    void send(const char* p, size_t n) {
        while (n > 0) {
            ssize_t k = ::write(fd[1], p, n);
            if (k == -1 && errno == EINTR) continue;
            check(static_cast<int>(k), "write");
            p += k, n -= static_cast<size_t>(k);
        }
    }
    size_t receive(char* p, size_t n) {
        for (size_t left = n; left > 0;) {
            ssize_t k = ::read(fd[0], p, left);
            if (k == -1 && errno == EINTR) continue;
            check(static_cast<int>(k), "read");
            if (k == 0) throw std::runtime_error("end-of-file: the producer is gone");
            p += k, left -= static_cast<size_t>(k);
        }
        return n;
    }
    void close(int end) { ::close(fd[end]); fd[end] = -1; }
    int fd[2] = {-1, -1};
};

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

/// A child sends `count` numbered messages; we receive and check every one.
/// Returns MB/s, or -1 if a message arrived damaged, short or out of order.
double throughput(bool socket, size_t size, std::uint64_t count) {
    Stream s(socket);
    auto t0 = std::chrono::steady_clock::now();
    std::fflush(stdout);
    Child producer(check(::fork(), "fork"));
    if (producer.pid == 0) {  // the child ends here, whatever happens: never in main's code
        s.close(0);  // the read end is the parent's
        _exit(produce("ipc_speed_streams", s, size, count));
    }
    s.close(1);  // ours: now a dead producer means end-of-file, never a hang
    double mbs = consume(s, size, count, t0);
    int status = 0;  // the producer has sent everything: this wait is short
    check(::waitpid(producer.pid, &status, 0), "waitpid");
    producer.pid = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? mbs : -1;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: ipc_speed_streams\n"); return 2; }
    try {
        bool ok = true;
        std::printf("throughput in MB/s (higher is better), one producer -> one consumer\n");
        std::printf("%-8s %10s %10s\n", "message", "pipe", "socketpair");
        for (const Row& r : kRows) {
            double pipe = throughput(false, r.size, r.count), sock = throughput(true, r.size, r.count);
            ok = ok && pipe > 0 && sock > 0;
            std::printf("%-8s %10.0f %10.0f\n", r.label, pipe, sock);
        }
        return verdict(ok);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipc_speed_streams: %s\n", e.what());
        return 1;
    }
}
