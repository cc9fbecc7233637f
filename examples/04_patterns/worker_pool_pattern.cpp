// worker_pool_pattern.cpp - workers take the next task when they are free, so a
// faster worker takes more tasks. Python: a task Queue, a result Queue, workers
// looping on get(). Here the task queue is a pipe in packet mode (O_DIRECT):
// each read() returns one write(), so workers sharing it never split a task.
#include <algorithm>
#include <chrono>
#include <deque>
#include <thread>
#include <vector>

#include "pattern.hpp"  // check, Pipe, Child, send/receive, run_main

constexpr int kWorkers = 3, kTasks = 60, kBaseMs = 2;  // worker w: (2w+1) x 2 ms a task

struct Task { int id, n; };  // the sum of squares 1..n
struct Result { int task_id, worker; long long value; };
long long sum_of_squares(long long n) { return n * (n + 1) * (2 * n + 1) / 6; }

int main(int argc, char* argv[]) {
    return run_main("worker_pool_pattern", argc, argv, [] {
        ::signal(SIGPIPE, SIG_IGN);  // if every worker died, send() fails (EPIPE)
        Pipe tasks(O_DIRECT), results;
        std::cout << kWorkers << " workers, " << kTasks << " tasks; worker w costs (2w+1) x "
                  << kBaseMs << " ms per task\n";
        std::deque<Child> workers;  // a deque never moves them
        for (int w = 0; w < kWorkers; ++w)
            workers.emplace_back([&, w] {
                tasks.close(1), results.close(0);  // a worker keeps only the ends it uses
                for (Task t; receive(tasks.end[0], t);) {  // until the queue is empty and closed
                    std::this_thread::sleep_for(std::chrono::milliseconds(kBaseMs * (2 * w + 1)));
                    send(results.end[1], Result{t.id, w, sum_of_squares(t.n)});
                }
            });
        tasks.close(0), results.close(1);  // or our read loop would never see end-of-file

        // The pipe holds 16 packets, so this blocks until workers take some.
        for (int id = 0; id < kTasks; ++id) send(tasks.end[1], Task{id, 100 + id});
        tasks.close(1);  // end of the queue: workers see EOF once it is empty
        std::vector<int> done_by(kWorkers), times_done(kTasks);
        int correct = 0;
        for (Result r; receive(results.end[0], r);) {  // EOF: every worker has exited
            ++done_by.at(r.worker), ++times_done.at(r.task_id);
            correct += r.value == sum_of_squares(100 + r.task_id);
        }
        bool ok = true;
        for (auto& w : workers) ok = w.wait() && ok;
        for (int w = 0; w < kWorkers; ++w)
            std::cout << "worker " << w << " (" << kBaseMs * (2 * w + 1) << " ms/task) took "
                      << done_by[w] << " tasks\n";
        const bool once = std::count(times_done.begin(), times_done.end(), 1) == kTasks;
        // Who took how many depends on timing: reported, never judged.
        std::cout << "faster workers took more tasks: "
                  << (done_by[0] > done_by[1] && done_by[1] > done_by[2] ? "yes" : "not on this run")
                  << "\nresults correct: " << correct << " of " << kTasks
                  << ", every task done exactly once: " << (once ? "yes" : "no") << '\n';
        return ok && once && correct == kTasks ? 0 : 1;
    });
}
