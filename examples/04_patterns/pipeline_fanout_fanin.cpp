// pipeline_fanout_fanin.cpp - source -> 3 workers -> sink, joined by two pipes.
// Fan-out: the workers share pipe A's read end; fan-in: they share pipe B's
// write end, and the sink puts items back in order by their sequence numbers.
// Python: Process stages chained by Queue(maxsize=...) objects.
#include <chrono>
#include <deque>
#include <map>
#include <thread>
#include <vector>

#include "pattern.hpp"  // check, Pipe, Child, send/receive, run_main

constexpr int kWorkers = 3, kItems = 600;

struct Item { int seq, value; };
struct Processed { int seq, worker, steps; };

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
    return run_main("pipeline_fanout_fanin", argc, argv, [] {
        Pipe a(O_DIRECT), b(O_DIRECT);  // packet mode: the workers share a's read end
        const int packets = check(::fcntl(a.end[1], F_GETPIPE_SZ), "fcntl") / ::getpagesize();
        std::cout << "pipeline: source -> " << kWorkers << " workers -> sink, " << kItems
                  << " items; each pipe holds " << packets << " packets\n";
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
    });
}
