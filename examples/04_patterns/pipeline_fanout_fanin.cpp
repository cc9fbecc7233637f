// pipeline_fanout_fanin.cpp - source -> 3 workers -> sink, joined by two pipes.
// Fan-out: the workers share pipe A's read end; fan-in: they share pipe B's
// write end, and the sink puts items back in order by their sequence numbers.
// Python: Process stages chained by Queue(maxsize=...) objects.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <iostream>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

constexpr int kWorkers = 3, kItems = 600;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// A pipe in packet mode: each read() returns one write(), so readers can share it.
struct PacketPipe {  // owns both ends: end[0] is read from, end[1] written to
    int end[2] = {-1, -1};
    PacketPipe() { check(::pipe2(end, O_CLOEXEC | O_DIRECT), "pipe2"); }
    ~PacketPipe() { close(0), close(1); }
    void close(int i) { if (end[i] != -1) ::close(std::exchange(end[i], -1)); }
    int capacity() const {  // one packet per page-sized buffer slot: 16 by default
        return check(::fcntl(end[1], F_GETPIPE_SZ), "fcntl") / ::getpagesize();
    }
};

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        if ((pid = check(::fork(), "fork")) != 0) return;
        try { body(); } catch (...) { _exit(1); }  // the child ends here, whatever happens
        _exit(0);
    }
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};
struct Item { int seq, value; };
struct Processed { int seq, worker, steps; };

// One write() of at most PIPE_BUF bytes: the whole record or an error, never half.
void send(int fd, const auto& rec) { check(static_cast<int>(::write(fd, &rec, sizeof rec)), "write"); }
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

// Stage 1, as fast as it can: write() blocks while pipe A is full.
void source(int out) {
    for (int i = 0; i < kItems; ++i) send(out, Item{i, 1000 + i});
}
// Stage 2, three copies: the slow step (1 ms an item).
void worker(int id, int in, int out) {
    for (Item it; receive(in, it);) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        send(out, Processed{it.seq, id, collatz_steps(it.value)});
    }
}

int main(int argc, char* argv[]) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        PacketPipe a, b;
        std::cout << "pipeline: source -> " << kWorkers << " workers -> sink, " << kItems
                  << " items; each pipe holds " << a.capacity() << " packets\n";
        std::deque<Child> stages;  // each stage closes the ends it does not use,
        stages.emplace_back([&] {  // or end-of-file never reaches the next stage
            a.close(0), b.close(0), b.close(1), source(a.end[1]);
        });
        for (int w = 0; w < kWorkers; ++w)
            stages.emplace_back([&, w] { a.close(1), b.close(0), worker(w, a.end[0], b.end[1]); });
        a.close(0), a.close(1), b.close(1);  // the sink reads pipe B only

        // Stage 3, the sink: fan-in arrives out of order; hold early items back.
        std::map<int, Processed> waiting;
        std::vector<int> per_worker(kWorkers);
        int next = 0, out_of_order = 0;  // next: how many were delivered in order
        long long sum = 0;
        for (Processed r; receive(b.end[0], r);) {  // EOF: every worker has exited
            ++per_worker.at(r.worker);
            out_of_order += r.seq != next;
            waiting.emplace(r.seq, r);
            for (auto it = waiting.find(next); it != waiting.end(); it = waiting.find(++next)) {
                sum += it->second.steps;
                waiting.erase(it);
            }
        }
        bool ok = true;
        for (auto& s : stages) ok = s.wait() && ok;
        long long serial = 0;
        for (int i = 0; i < kItems; ++i) serial += collatz_steps(1000 + i);
        for (int w = 0; w < kWorkers; ++w)
            std::cout << "worker " << w << " processed " << per_worker[w] << " items\n";
        std::cout << "fan-in: " << out_of_order << " items arrived out of order; sink delivered "
                  << next << " of " << kItems << " in sequence\n"
                  << "sum of collatz steps: " << sum << " (serial " << serial << ")\n";
        return ok && next == kItems && sum == serial ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pipeline_fanout_fanin: " << e.what() << '\n';
        return 1;
    }
}
