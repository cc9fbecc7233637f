// process_manager.cpp — a process manager: workers, a task queue, a result queue.
//
// Python's tutorial builds this from Process and two Queues. Here one SOCK_SEQPACKET
// socket pair carries tasks out and results back: every message arrives whole, and
// several workers may read the same socket safely. Tasks are named by an enum: code
// cannot travel between processes, but after fork() every worker already has it all.
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::chrono;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd { int fd = -1; ~Fd() { if (fd >= 0) ::close(fd); } };   // owns one descriptor

enum class Fn : int { Square, Add };   // what workers can do: code named, not sent
long run_task(Fn fn, long a, long b) noexcept {
    ::usleep(static_cast<useconds_t>(a < 6 ? (6 - a) * 10000 : 0));   // early tasks are slower:
    return fn == Fn::Square ? a * a : a + b;                         // results come back out of order
}

struct TaskMsg { std::uint64_t id; Fn fn; long a, b; };   // id 0: "stop"
struct ResultMsg { std::uint64_t id; long value; };

/// A worker's life. noexcept: nothing can unwind into main's code.
[[noreturn]] void worker_main(int sock) noexcept {
    TaskMsg t{};
    while (::recv(sock, &t, sizeof t, 0) == sizeof t && t.id != 0) {
        ResultMsg r{t.id, run_task(t.fn, t.a, t.b)};   // errors and time-outs: see result_by_id
        if (::send(sock, &r, sizeof r, MSG_NOSIGNAL) != sizeof r) _exit(1);
    }
    _exit(t.id == 0 ? 0 : 1);   // a stop message: clean; end-of-file (main died): not
}

/// The manager: its end of the queue and the workers. Leaving its scope early kills
/// and reaps them (pid > 0: kill(-1, ...) would signal every process we may signal).
struct Manager {
    Fd sock;
    std::vector<pid_t> pids;
    std::uint64_t next_id = 1;
    ~Manager() { for (pid_t pid : pids) if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
};

void start(Manager& m, int workers) {
    int sv[2];   // one pair, both ways: tasks go out on sv[0], results come back on it
    check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
    m.sock.fd = sv[0];
    Fd theirs{sv[1]};   // closed when we return: all workers gone = end-of-file for us
    std::fflush(stdout);
    for (int i = 0; i < workers; ++i) {
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) { ::close(m.sock.fd); worker_main(theirs.fd); }   // main gone = EOF for them
        m.pids.push_back(pid);
    }
}

/// Submits every task, then collects the results in submission order, although
/// they arrive in any order (Python: Pool.starmap).
std::vector<long> starmap(Manager& m, Fn fn, const std::vector<std::pair<long, long>>& items) {
    const std::uint64_t first = m.next_id;
    for (auto [a, b] : items) {
        TaskMsg t{m.next_id++, fn, a, b};
        check(static_cast<int>(::send(m.sock.fd, &t, sizeof t, MSG_NOSIGNAL)), "send");
    }
    std::vector<long> out(items.size());
    for (size_t n = 0; n < items.size(); ++n) {
        pollfd p{m.sock.fd, POLLIN, 0};   // bounded: a worker may have died with our task
        if (check(::poll(&p, 1, 5000), "poll") == 0) throw std::runtime_error("no result in 5 s");
        ResultMsg r{};
        if (check(static_cast<int>(::recv(m.sock.fd, &r, sizeof r, 0)), "recv") != sizeof r)
            throw std::runtime_error("all workers are gone");
        out.at(r.id - first) = r.value;   // its place is its id: submission order
    }
    return out;
}

/// One stop message per worker, a grace period, then SIGKILL for a worker stuck in a
/// task (it would never read its stop message). Returns how many exited cleanly.
int stop(Manager& m, milliseconds grace = 1s) {
    const TaskMsg bye{0, Fn::Square, 0, 0};   // not checked: a dead worker gets SIGKILL below
    for (size_t i = 0; i < m.pids.size(); ++i) (void)::send(m.sock.fd, &bye, sizeof bye, MSG_NOSIGNAL);
    const auto deadline = steady_clock::now() + grace;
    int clean = 0;
    for (pid_t& pid : m.pids) {
        int status = 0;
        pid_t r;
        while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && steady_clock::now() < deadline)
            std::this_thread::sleep_for(5ms);
        if (r == 0) { ::kill(pid, SIGKILL); ::waitpid(pid, &status, 0); }
        pid = -1;   // reaped: the number may now belong to another process
        clean += r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return clean;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: process_manager (takes no arguments)\n");
        return 2;
    }
    try {
        Manager manager;
        start(manager, 3);
        auto sums = starmap(manager, Fn::Add, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}});
        std::printf("starmap(add, (i, i+1)) =");
        for (long x : sums) std::printf(" %ld", x);
        int clean = stop(manager);
        std::printf("\nstop: %d of 3 workers exited with code 0\n", clean);
        bool ok = sums == std::vector<long>{1, 3, 5, 7, 9, 11} && clean == 3;
        std::printf("%s\n", ok ? "ok: results in submission order, orderly shutdown" : "FAIL");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {   // ~Manager has killed and reaped every worker
        std::fflush(stdout);
        std::fprintf(stderr, "process_manager: %s\n", e.what());
        return 1;
    }
}
