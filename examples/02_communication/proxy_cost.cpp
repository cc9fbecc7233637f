// proxy_cost.cpp — one manager-style proxy call (a request to another process and
// its reply) against one atomic increment. Python: a Manager().dict() proxy call.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
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

constexpr int calls = 2000, increments = 1'000'000;

// The "manager": answers each "add" with its new count, until end-of-file.
void serve(int fd) {
    long counter = 0;
    char buf[16];
    while (::recv(fd, buf, sizeof buf, 0) > 0) {
        const std::string reply = std::to_string(++counter);
        if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) == -1) break;
    }
}

// The same count with no server: one atomic increment. In a MAP_SHARED mapping
// (value_array) it costs the same: the CPU does not know who else maps the page.
double ns_per_atomic_increment() {
    static std::atomic<long> counter{0};
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < increments; ++i) counter.fetch_add(1);
    const std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
    return dt.count() / increments;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: proxy_cost\n"); return 2; }
    try {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), "socketpair");
        std::fflush(stdout);             // else the child prints our buffer again
        Child server(check(::fork(), "fork"));
        if (server.pid == 0) { ::close(sv[0]); serve(sv[1]); _exit(0); }
        ::close(sv[1]);                  // a dead server now means end-of-file
        char reply[16];
        long last = 0;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) {   // one proxy call: a request, then its reply
            check(static_cast<int>(::send(sv[0], "add", 3, MSG_NOSIGNAL)), "send");
            const int n = check(static_cast<int>(::recv(sv[0], reply, sizeof reply, 0)), "recv");
            last = n > 0 ? std::stol(std::string(reply, static_cast<size_t>(n))) : -1;
        }
        const std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
        ::close(sv[0]);                  // the server reads end-of-file and exits
        int status = 0;
        check(::waitpid(server.pid, &status, 0), "waitpid");
        server.pid = -1;                 // reaped
        const double proxy_ns = dt.count() / calls, atomic_ns = ns_per_atomic_increment();
        std::printf("one proxy call: %.1f us; one atomic increment: %.1f ns\n",
                    proxy_ns / 1000, atomic_ns);
        // A figure to read, not a claim to enforce: it varies with the machine.
        std::printf("a proxy call costs %.0fx an atomic increment: use the manager for "
                    "convenience, not for speed\n", proxy_ns / atomic_ns);
        const bool ok = last == calls && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s: the server counted %ld of %d calls\n", ok ? "all answered" : "FAILED",
                    last, calls);
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "proxy_cost: %s\n", e.what());
        return 1;
    }
}
