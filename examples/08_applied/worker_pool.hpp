// ANCHOR: parts
// worker_pool.hpp - the pool of chapter 8's task framework (task_framework.cpp):
// - Distributor: the queue of pending tasks; re-queues a task whose worker died.
// - WorkerPool: forked workers, each with its own task and result pipe, so the pool
//   knows which task a dead worker was running; it reaps the dead one, decodes its
//   exit status and forks a replacement.
// - ResultCollector: one outcome per task, whatever happened.
// The program defines the tasks' work: execute(), which runs in a worker.
#pragma once

#include "plumbing.hpp"  // check, Fd, Pipe, send, receive, describe

#include <poll.h>

#include <climits>
#include <deque>
#include <map>

constexpr int kMaxAttempts = 2;  // runs of one task before the pool gives up on it

// A task and its outcome travel as fixed-size records, one write() each.
enum class Kind : int { kCountPrimes, kFlaky, kCrash };
struct Task { int id; Kind kind; int arg; int attempt; };
struct Result { int task_id; bool ok; long value; char error[100]; };
static_assert(sizeof(Task) <= PIPE_BUF && sizeof(Result) <= PIPE_BUF);

/// Runs in the worker (task_framework.cpp). Exceptions become error results;
/// crashes cannot be caught.
Result execute(const Task& t);

class Distributor {
public:
    void submit(Task t) { queue_.push_back(t); }
    bool has_work() const { return !queue_.empty(); }
    Task next() { Task t = queue_.front(); queue_.pop_front(); return t; }
    /// A task whose worker died: try again on a fresh worker, or give up.
    bool retry(Task t) {
        if (t.attempt >= kMaxAttempts) return false;
        ++t.attempt;
        queue_.push_front(t);
        return true;
    }
private:
    std::deque<Task> queue_;
};

class ResultCollector {
public:
    void add(const Result& r) { results_[r.task_id] = r; }
    void add_failure(int task_id, const std::string& why) {
        Result r{task_id, false, 0, {}};
        std::snprintf(r.error, sizeof r.error, "%s", why.c_str());
        results_[task_id] = r;
    }
    std::size_t size() const { return results_.size(); }
    const std::map<int, Result>& results() const { return results_; }
private:
    std::map<int, Result> results_;   // ordered by task id for the report
};
// ANCHOR_END: parts

// ANCHOR: pool
class WorkerPool {
public:
    explicit WorkerPool(int n) : workers_(static_cast<std::size_t>(n)) {
        for (auto& w : workers_) start(w);
    }

    int replaced() const { return replaced_; }

    /// EOF on every task pipe; idle workers then exit by themselves, and we reap them.
    void shutdown() {
        for (auto& w : workers_) w.tasks.close();
        for (auto& w : workers_)
            if (w.pid > 0) {
                check(waitpid(w.pid, nullptr, 0), "waitpid");
                w.pid = -1;
            }
    }

    /// The event loop: feed idle workers, collect results, handle dead workers.
    void run(Distributor& distributor, ResultCollector& collector, std::size_t expected) {
        while (collector.size() < expected) {
            for (auto& w : workers_)
                if (!w.busy && distributor.has_work()) {
                    w.task = distributor.next();
                    w.busy = true;
                    send(w.tasks.get(), w.task);   // the pipe is empty: never blocks
                }
            std::vector<pollfd> fds;
            for (auto& w : workers_) fds.push_back({w.results.get(), POLLIN, 0});
            if (poll(fds.data(), fds.size(), -1) == -1) {
                if (errno == EINTR) continue;
                check(-1, "poll");
            }
            for (std::size_t i = 0; i < workers_.size(); ++i) {
                if (fds[i].revents == 0) continue;
                Worker& w = workers_[i];
                Result r;
                if (receive(w.results.get(), r)) {
                    collector.add(r);
                    w.busy = false;
                } else {
                    handle_death(w, distributor, collector);
                }
            }
        }
    }
// ANCHOR_END: pool
// ANCHOR: worker
private:
    /// One worker and the parent's ends of its pipes. If the pool is left early (an
    /// exception), the destructor kills and reaps a worker still running.
    struct Worker {
        pid_t pid = -1;
        Fd tasks, results;   // parent's ends: write tasks, read results
        bool busy = false;
        Task task{};
        ~Worker() {  // SIGKILL cannot be caught: this wait is bounded
            if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        }
    };

    void start(Worker& w) {
        Pipe task, result;
        std::cout.flush();
        w.pid = static_cast<pid_t>(check(fork(), "fork"));
        if (w.pid == 0) {  // the child ends here, whatever happens: never in main's code
            int code = 1;
            try {
                // The child inherited the parent's ends of every other worker's pipes.
                // Close them: a stray copy of a task pipe's write end would keep that
                // worker from ever seeing EOF at shutdown.
                for (auto& other : workers_) { other.tasks.close(); other.results.close(); }
                task.write.close();
                result.read.close();
                for (Task t; receive(task.read.get(), t);) send(result.write.get(), execute(t));
                code = 0;
            } catch (...) {}
            std::fflush(stdout);
            _exit(code);
        }
        w.tasks = std::move(task.write);     // the child's ends close when we return
        w.results = std::move(result.read);
        w.busy = false;
    }
// ANCHOR_END: worker
// ANCHOR: death
    // EOF on its result pipe: the worker has died (or is exiting); it ends by itself.
    void handle_death(Worker& w, Distributor& distributor, ResultCollector& collector) {
        int status;
        check(waitpid(w.pid, &status, 0), "waitpid");
        w.pid = -1;
        const std::string why = "worker " + describe(status);
        if (w.busy) {
            const bool again = distributor.retry(w.task);
            std::cout << "pool: task " << w.task.id << ": " << why << " (attempt " << w.task.attempt
                      << "); " << (again ? "retrying on a new worker" : "giving up") << '\n';
            if (!again)
                collector.add_failure(w.task.id, why + ", " + std::to_string(kMaxAttempts) + " attempts");
        }
        w.tasks.close();
        w.results.close();
        start(w);   // keep the pool at full strength
        ++replaced_;
    }

    std::vector<Worker> workers_;
    int replaced_ = 0;
};
// ANCHOR_END: death
