// pipeline_fanout_fanin.cpp - source -> N workers -> sink, connected by pipes.
//
//   source --(pipe A)--> worker 0..N-1 --(pipe B)--> sink (the parent)
//
// Fan-out: all workers read the same pipe A, each takes the next item when it is free.
// Fan-in:  all workers write to the same pipe B; the sink puts items back in order.
// Back-pressure: a pipe holds a limited number of items; when it is full, write()
// blocks, so a fast source is held to the pace of the slow stage behind it.
//
// Python: chained Queue(maxsize=...) objects between Process stages, put() blocks
// when a queue is full. Here the kernel's pipe buffer is the bounded queue.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <new>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr int kWorkers = 3;
constexpr int kItems = 600;
constexpr auto kWorkCost = std::chrono::milliseconds(1);   // the slow stage

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}
long check(long rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// Owns forked children. wait_all() reaps them and says whether all exited with 0;
/// the destructor kills and reaps any still running (early return, exception).
class ChildGroup {
public:
    ChildGroup() = default;
    ChildGroup(const ChildGroup&) = delete;
    ChildGroup& operator=(const ChildGroup&) = delete;
    ~ChildGroup() {
        for (pid_t pid : pids_) { kill(pid, SIGKILL); waitpid(pid, nullptr, 0); }
    }
    void add(pid_t pid) { pids_.push_back(pid); }
    bool wait_all() {
        bool ok = true;
        for (pid_t pid : pids_) {
            int status;
            check(waitpid(pid, &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return ok;
    }
private:
    std::vector<pid_t> pids_;
};

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { close(); }
    int get() const noexcept { return fd_; }
    void close() noexcept { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

/// A pipe in packet mode (O_DIRECT): each read() returns exactly one write(), so
/// many readers can share it. Each packet occupies one pipe buffer slot.
struct PacketPipe {
    Fd read, write;
    PacketPipe() {
        int fds[2];
        check(pipe2(fds, O_CLOEXEC | O_DIRECT), "pipe2");
        read = Fd(fds[0]);
        write = Fd(fds[1]);
    }
    long capacity_in_packets() const {
        return check(fcntl(write.get(), F_GETPIPE_SZ), "F_GETPIPE_SZ") / sysconf(_SC_PAGESIZE);
    }
};

struct Item { int seq; int value; };
struct Processed { int seq; int worker; int value; int steps; };
static_assert(sizeof(Processed) <= PIPE_BUF);

/// Counters shared by all processes, to measure how far ahead the source gets.
struct Progress {
    std::atomic<long> written{0};    // items the source has put into pipe A
    std::atomic<long> consumed{0};   // items the sink has taken out of pipe B
    std::atomic<long> max_ahead{0};  // largest written - consumed the source saw
    std::atomic<long> source_done_ms{0};
};

template <class T>
void send(int fd, const T& record) {
    if (check(write(fd, &record, sizeof record), "write") != sizeof record) die("short write");
}
template <class T>
bool receive(int fd, T& record) {
    long n;
    while ((n = read(fd, &record, sizeof record)) == -1 && errno == EINTR) {}
    if (check(n, "read") == 0) return false;
    if (n != sizeof record) die("short read");
    return true;
}

int collatz_steps(long n) {
    int steps = 0;
    for (; n != 1; ++steps) n = (n % 2 == 0) ? n / 2 : 3 * n + 1;
    return steps;
}

using Clock = std::chrono::steady_clock;
long ms_since(Clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
}

/// Stage 1: produce items as fast as it can. write() blocks while pipe A is full.
void source(int out, Progress& p, Clock::time_point t0) {
    for (int i = 0; i < kItems; ++i) {
        send(out, Item{i, 1000 + i});
        long ahead = ++p.written - p.consumed;
        if (ahead > p.max_ahead) p.max_ahead = ahead;
    }
    p.source_done_ms = ms_since(t0);
}

/// Stage 2 (N copies): the slow step.
void worker(int id, int in, int out) {
    for (Item it; receive(in, it);) {
        std::this_thread::sleep_for(kWorkCost);
        send(out, Processed{it.seq, id, it.value, collatz_steps(it.value)});
    }
}

/// Fork a stage. The child closes every descriptor it does not use (the parent's
/// Fd objects are copied into it) - otherwise EOF would never arrive downstream.
template <class F>
pid_t start_stage(std::vector<Fd*> to_close, F body) {
    std::cout.flush();
    pid_t pid = static_cast<pid_t>(check(fork(), "fork"));
    if (pid == 0) {
        for (Fd* fd : to_close) fd->close();
        body();
        _exit(0);
    }
    return pid;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    void* mem = mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) die("mmap");
    struct Unmap { void* p; ~Unmap() { munmap(p, sizeof(Progress)); } } unmap{mem};
    Progress& progress = *new (mem) Progress{};

    PacketPipe a, b;
    const long bound = a.capacity_in_packets() + kWorkers + b.capacity_in_packets() + 1;
    std::cout << "pipeline: source -> " << kWorkers << " workers -> sink, " << kItems
              << " items; each pipe holds " << a.capacity_in_packets() << " packets\n";

    const auto t0 = Clock::now();
    ChildGroup children;
    children.add(start_stage({&a.read, &b.read, &b.write},
                               [&] { source(a.write.get(), progress, t0); }));
    for (int w = 0; w < kWorkers; ++w)
        children.add(start_stage({&a.write, &b.read},
                                   [&, w] { worker(w, a.read.get(), b.write.get()); }));
    a.read.close();   // the sink (this process) only reads pipe B
    a.write.close();
    b.write.close();

    // Stage 3, the sink: fan-in arrives out of order, so hold early items back
    // until the ones before them have arrived.
    std::map<int, Processed> waiting;
    std::vector<int> per_worker(kWorkers, 0);
    int next = 0, out_of_order = 0;   // next: how many were delivered in order
    long long sum = 0;
    for (Processed r; receive(b.read.get(), r);) {
        ++progress.consumed;
        ++per_worker[r.worker];
        if (r.seq != next) ++out_of_order;
        waiting.emplace(r.seq, r);
        for (auto it = waiting.find(next); it != waiting.end(); it = waiting.find(++next)) {
            sum += it->second.steps;
            waiting.erase(it);
        }
    }
    const long total_ms = ms_since(t0);

    bool ok = children.wait_all();
    long long serial = 0;
    for (int i = 0; i < kItems; ++i) serial += collatz_steps(1000 + i);

    for (int w = 0; w < kWorkers; ++w)
        std::cout << "worker " << w << " processed " << per_worker[w] << " items\n";
    const bool bounded = progress.max_ahead <= bound;
    const bool throttled = progress.source_done_ms * 2 > total_ms;
    std::cout << "fan-in: " << out_of_order << " items arrived out of order; sink "
              << "delivered " << next << " of " << kItems << " in sequence\n"
              << "sum of collatz steps: " << sum << " (serial " << serial << ")\n"
              << "source was at most " << progress.max_ahead << " items ahead of the sink"
              << " (bound " << bound << "): " << (bounded ? "yes" : "no") << '\n'
              << "source finished writing at " << progress.source_done_ms
              << " ms of " << total_ms << " ms: held back by full pipes: "
              << (throttled ? "yes" : "not on this run") << " (timing: reported, not enforced)\n";
    ok = ok && next == kItems && waiting.empty() && sum == serial && bounded;
    return ok ? 0 : 1;
}
