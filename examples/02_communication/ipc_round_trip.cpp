// ipc_round_trip.cpp — the round trip of a 64-byte request through a socketpair:
// a child echoes it, we wait for the reply. What this measures is mostly waking
// the other process up, twice per trip. The figure is printed, never judged.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct SocketPair {  // SOCK_SEQPACKET keeps boundaries: one send() is one recv()
    SocketPair() { check(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fd), "socketpair"); }
    ~SocketPair() { for (int f : fd) if (f != -1) ::close(f); }
    void close(int end) { ::close(fd[end]); fd[end] = -1; }
    int fd[2] = {-1, -1};
};

constexpr size_t size = 64;
// MSG_NOSIGNAL: a dead peer makes send() fail with EPIPE instead of killing us.
void send_msg(int fd, const char* p) { check(static_cast<int>(::send(fd, p, size, MSG_NOSIGNAL)), "send"); }
void recv_msg(int fd, char* p) {
    int n = check(static_cast<int>(::recv(fd, p, size, 0)), "recv");
    if (n != size) throw std::runtime_error(n == 0 ? "end-of-file: the other process is gone" : "short message");
}
void echo_all(int fd, int rounds) {  // the child's side
    char buf[size];
    for (int i = 0; i < rounds; ++i) { recv_msg(fd, buf); send_msg(fd, buf); }
}
/// Microseconds per round trip, or -1 if an echo came back wrong or the child failed.
double round_trip_us(int rounds) {
    SocketPair sp;  // fd[0] is ours, fd[1] the child's
    std::fflush(stdout);
    Child echo(check(::fork(), "fork"));
    if (echo.pid == 0) {  // the child ends here, whatever happens: never in main's code
        int code = 1;
        try { sp.close(0); echo_all(sp.fd[1], rounds); code = 0; } catch (const std::exception& e) {
            std::fprintf(stderr, "ipc_round_trip (child): %s\n", e.what());
        }
        _exit(code);
    }
    sp.close(1);  // ours: a dead echo now means end-of-file, never a hang
    char out[size] = {}, in[size];
    bool intact = true;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < rounds; ++i) {
        std::memcpy(out, &i, sizeof i);
        send_msg(sp.fd[0], out);
        recv_msg(sp.fd[0], in);
        intact = intact && std::memcmp(in, out, size) == 0;
    }
    std::chrono::duration<double, std::micro> dt = std::chrono::steady_clock::now() - t0;
    int status = 0;  // the echo has answered every request and ends: a short wait
    check(::waitpid(echo.pid, &status, 0), "waitpid");
    echo.pid = -1;
    return intact && status == 0 ? dt.count() / rounds : -1;  // 0: exited with 0
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: ipc_round_trip\n"); return 2; }
    try {
        double us = round_trip_us(2'000);
        std::printf("round trip of a 64-byte message: %.1f microseconds (lower is better)\n%s\n", us,
                    us > 0 ? "every echo came back intact" : "FAILED: an echo was damaged");
        return us > 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipc_round_trip: %s\n", e.what());
        return 1;
    }
}
