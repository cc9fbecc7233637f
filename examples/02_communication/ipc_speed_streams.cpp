// ipc_speed_streams.cpp — how fast a pipe and a socketpair move messages of
// three sizes from one process to another. Small counts on purpose (well under
// a second): a first impression of this machine, printed and never judged;
// chapter 6 measures properly.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <system_error>
#include <vector>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// One direction, owned: fd[1] writes, fd[0] reads. A socketpair is two-way;
/// here it is used one way, exactly like the pipe it is compared with.
struct Channel {
    explicit Channel(bool socket) {
        if (socket) check(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd), "socketpair");
        else check(::pipe(fd), "pipe");
    }
    ~Channel() { for (int f : fd) if (f != -1) ::close(f); }
    void close(int end) { ::close(fd[end]); fd[end] = -1; }
    int fd[2] = {-1, -1};
};

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// A stream has no message boundaries: loop until all n bytes have moved.
void write_all(int fd, const char* p, size_t n) {
    while (n > 0) {
        ssize_t k = ::write(fd, p, n);
        if (k == -1 && errno == EINTR) continue;
        check(static_cast<int>(k), "write");
        p += k, n -= static_cast<size_t>(k);
    }
}

void read_all(int fd, char* p, size_t n) {
    while (n > 0) {
        ssize_t k = ::read(fd, p, n);
        if (k == -1 && errno == EINTR) continue;
        check(static_cast<int>(k), "read");
        if (k == 0) throw std::runtime_error("end-of-file: the producer is gone");
        p += k, n -= static_cast<size_t>(k);
    }
}

// The child's side: `count` messages, each starting with its sequence number.
void produce(int fd, size_t size, std::uint64_t count) {
    std::vector<char> msg(size, 'x');
    for (std::uint64_t i = 0; i < count; ++i) {
        std::memcpy(msg.data(), &i, sizeof i);
        write_all(fd, msg.data(), size);
    }
}

/// A child writes `count` numbered messages; we read and check every one.
/// Returns MB/s, or -1 if a message arrived damaged or out of order.
double throughput(bool socket, size_t size, std::uint64_t count) {
    Channel c(socket);
    auto t0 = std::chrono::steady_clock::now();
    std::fflush(stdout);
    Child producer(check(::fork(), "fork"));
    if (producer.pid == 0) {  // the child ends here, whatever happens: never in main's code
        int code = 1;
        try { c.close(0); produce(c.fd[1], size, count); code = 0; } catch (const std::exception& e) {
            std::fprintf(stderr, "ipc_speed_streams (child): %s\n", e.what());
        }
        _exit(code);
    }
    c.close(1);  // ours: now a dead producer means end-of-file, never a hang
    std::vector<char> msg(size);
    bool intact = true;
    for (std::uint64_t i = 0; i < count; ++i) {
        read_all(c.fd[0], msg.data(), size);
        std::uint64_t seq;
        std::memcpy(&seq, msg.data(), sizeof seq);
        intact = intact && seq == i && msg.back() == 'x';
    }
    std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    int status = 0;  // the producer has written everything: this wait is short
    check(::waitpid(producer.pid, &status, 0), "waitpid");
    producer.pid = -1;
    intact = intact && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    return intact ? static_cast<double>(size) * static_cast<double>(count) / dt.count() / 1e6 : -1;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: ipc_speed_streams\n"); return 2; }
    try {
        struct Row { const char* label; size_t size; std::uint64_t count; };
        const Row rows[] = {{"64 B", 64, 20'000}, {"4 KiB", 4096, 5'000}, {"64 KiB", 65536, 400}};
        bool ok = true;
        std::printf("throughput in MB/s (higher is better), one producer -> one consumer\n");
        std::printf("%-8s %10s %10s\n", "message", "pipe", "socketpair");
        for (const Row& r : rows) {
            double pipe = throughput(false, r.size, r.count), sock = throughput(true, r.size, r.count);
            ok = ok && pipe > 0 && sock > 0;
            std::printf("%-8s %10.0f %10.0f\n", r.label, pipe, sock);
        }
        std::printf("%s\n", ok ? "every message arrived complete and in order" : "FAILED: data damaged");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipc_speed_streams: %s\n", e.what());
        return 1;
    }
}
