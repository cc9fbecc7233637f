// pipeline_fanout_fanin.cpp - source -> 3 workers -> sink, joined by two pipes.
// Fan-out: the workers share pipe A's read end; fan-in: they share pipe B's
// write end, and the sink puts items back in order. A full pipe blocks its
// writer, so the fast source is held to the pace of the slow workers.
// Python: Process stages chained by Queue(maxsize=...) objects.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <map>
#include <new>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr int kWorkers = 3, kItems = 600;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: owners
struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(std::exchange(fd, -1)); }
};
// A pipe in packet mode: each read() returns one write(), so readers can share it.
struct PacketPipe {
    Fd read, write;
    PacketPipe() {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC | O_DIRECT), "pipe2");
        read.fd = fds[0], write.fd = fds[1];
    }
    int capacity() const {  // one packet per page-sized buffer slot: 16 by default
        return check(::fcntl(write.fd, F_GETPIPE_SZ), "fcntl") / ::getpagesize();
    }
};

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        pid = check(::fork(), "fork");
        if (pid != 0) return;
        int code = 1;  // the child ends here, whatever happens
        try { body(); code = 0; } catch (const std::exception& e) { std::cerr << e.what() << '\n'; }
        catch (...) {}
        _exit(code);
    }
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

// Shared counters (MAP_SHARED): how far the source ever got ahead of the sink.
struct Progress { std::atomic<long> written{0}, consumed{0}, max_ahead{0}; };
struct SharedProgress {
    Progress* p;
    SharedProgress() {
        void* m = ::mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        p = new (m) Progress;
    }
    ~SharedProgress() { ::munmap(p, sizeof(Progress)); }
};
// ANCHOR_END: owners

struct Item { int seq, value; };
struct Processed { int seq, worker, steps; };

void send(int fd, const auto& rec) {  // one write(): atomic up to PIPE_BUF bytes
    if (check(static_cast<int>(::write(fd, &rec, sizeof rec)), "write") != sizeof rec)
        throw std::runtime_error("short write");
}
template <class T> bool receive(int fd, T& rec) {  // false at end-of-file
    const int n = check(static_cast<int>(::read(fd, &rec, sizeof rec)), "read");
    if (n != 0 && n != sizeof rec) throw std::runtime_error("short read");
    return n != 0;
}
int collatz_steps(long n) {
    int steps = 0;
    for (; n != 1; ++steps) n = n % 2 == 0 ? n / 2 : 3 * n + 1;
    return steps;
}

// ANCHOR: stages
// Stage 1, as fast as it can: write() blocks while pipe A is full.
void source(int out, Progress& p) {
    for (int i = 0; i < kItems; ++i) {
        send(out, Item{i, 1000 + i});
        const long ahead = ++p.written - p.consumed;
        if (ahead > p.max_ahead) p.max_ahead = ahead;
    }
}
// Stage 2, three copies: the slow step (1 ms an item).
void worker(int id, int in, int out) {
    for (Item it; receive(in, it);) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        send(out, Processed{it.seq, id, collatz_steps(it.value)});
    }
}
// ANCHOR_END: stages

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // ANCHOR: main
        SharedProgress progress;
        PacketPipe a, b;
        const long bound = a.capacity() + kWorkers + b.capacity() + 1;
        std::cout << "pipeline: source -> " << kWorkers << " workers -> sink, " << kItems
                  << " items; each pipe holds " << a.capacity() << " packets\n";
        std::vector<Child> stages;  // each stage closes the ends it does not use,
        stages.emplace_back([&] {   // or end-of-file never reaches the next stage
            a.read.close(), b.read.close(), b.write.close();
            source(a.write.fd, *progress.p);
        });
        for (int w = 0; w < kWorkers; ++w)
            stages.emplace_back([&, w] {
                a.write.close(), b.read.close();
                worker(w, a.read.fd, b.write.fd);
            });
        a.read.close(), a.write.close(), b.write.close();  // the sink reads pipe B only

        // Stage 3, the sink: fan-in arrives out of order; hold early items back.
        std::map<int, Processed> waiting;
        std::vector<int> per_worker(kWorkers);
        int next = 0, out_of_order = 0;  // next: how many were delivered in order
        long long sum = 0;
        for (Processed r; receive(b.read.fd, r);) {  // EOF: every worker has exited
            ++progress.p->consumed, ++per_worker.at(r.worker);
            out_of_order += r.seq != next;
            waiting.emplace(r.seq, r);
            for (auto it = waiting.find(next); it != waiting.end(); it = waiting.find(++next)) {
                sum += it->second.steps;
                waiting.erase(it);
            }
        }
        bool ok = true;
        for (auto& s : stages) ok = s.wait() && ok;
        // ANCHOR_END: main
        long long serial = 0;
        for (int i = 0; i < kItems; ++i) serial += collatz_steps(1000 + i);
        for (int w = 0; w < kWorkers; ++w)
            std::cout << "worker " << w << " processed " << per_worker[w] << " items\n";
        const long ahead = progress.p->max_ahead;
        std::cout << "fan-in: " << out_of_order << " items arrived out of order; sink delivered "
                  << next << " of " << kItems << " in sequence\n"
                  << "sum of collatz steps: " << sum << " (serial " << serial << ")\n"
                  << "source was at most " << ahead << " items ahead of the sink (bound "
                  << bound << "): " << (ahead <= bound ? "yes" : "no") << '\n';
        return ok && next == kItems && sum == serial && ahead <= bound ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pipeline_fanout_fanin: " << e.what() << '\n';
        return 1;
    }
}
