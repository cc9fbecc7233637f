// task_framework.cpp - exercise solution: a small task framework with a distributor,
// a worker pool, a result collector and error handling.
//
// - Distributor: a queue of pending tasks; hands the next one to an idle worker and
//   re-queues a task whose worker died (up to kMaxAttempts).
// - WorkerPool: forked workers, each with its own task pipe and result pipe, so the
//   pool always knows which task a dead worker was running; a dead worker is reaped,
//   its exit status decoded, and a fresh worker takes its place.
// - ResultCollector: one outcome per task, whatever happened.
// Errors come in two kinds: a task that throws (the worker survives and reports the
// exception) and a task that kills its worker (the pool notices from EOF + waitpid).
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr int kWorkers = 3;
constexpr int kTasks = 20;
constexpr int kMaxAttempts = 2;

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

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

// ---- tasks -----------------------------------------------------------------------
enum class Kind : int { kCountPrimes, kFlaky, kCrash };
struct Task { int id; Kind kind; int arg; int attempt; };
struct Result { int task_id; bool ok; long value; char error[100]; };
static_assert(sizeof(Task) <= PIPE_BUF && sizeof(Result) <= PIPE_BUF);

long count_primes_below(int n) {
    if (n < 0) throw std::invalid_argument("n must not be negative, got " + std::to_string(n));
    long count = 0;
    for (int i = 2; i < n; ++i) {
        bool prime = true;
        for (int d = 2; d * d <= i && prime; ++d) prime = i % d != 0;
        count += prime;
    }
    return count;
}

[[noreturn]] void crash() {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);   // a demonstration crash need not leave a core file
    std::abort();                    // stands for a bug: a segfault would look the same
}

/// Runs in the worker. Exceptions become error results; crashes cannot be caught.
Result execute(const Task& t) {
    Result r{t.id, false, 0, {}};
    try {
        if (t.kind == Kind::kCrash || (t.kind == Kind::kFlaky && t.attempt == 1)) crash();
        r.value = count_primes_below(t.arg);
        r.ok = true;
    } catch (const std::exception& e) {
        std::snprintf(r.error, sizeof r.error, "exception: %s", e.what());
    }
    return r;
}

template <class T>
void send(int fd, const T& record) {
    if (check(write(fd, &record, sizeof record), "write") != sizeof record)
        throw std::runtime_error("short write");
}
/// Read one record; false at EOF (the writer is gone).
template <class T>
bool receive(int fd, T& record) {
    long n;
    while ((n = read(fd, &record, sizeof record)) == -1 && errno == EINTR) {}
    if (check(n, "read") == 0) return false;
    if (n != sizeof record) throw std::runtime_error("short read");
    return true;
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) return std::string("killed by SIG") + sigabbrev_np(WTERMSIG(status));
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// ---- the three components --------------------------------------------------------
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

// ANCHOR: pool
class WorkerPool {
public:
    explicit WorkerPool(int n) : workers_(static_cast<std::size_t>(n)) {
        for (auto& w : workers_) start(w);
    }
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

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
        Worker() = default;
        Worker(const Worker&) = delete;
        Worker& operator=(const Worker&) = delete;
        ~Worker() {  // SIGKILL cannot be caught: this wait is bounded
            if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        }
    };

    static std::pair<Fd, Fd> make_pipe() {
        int fds[2];
        check(pipe2(fds, O_CLOEXEC), "pipe2");
        return {Fd(fds[0]), Fd(fds[1])};
    }

    void start(Worker& w) {
        auto [task_read, task_write] = make_pipe();
        auto [result_read, result_write] = make_pipe();
        std::cout.flush();
        w.pid = static_cast<pid_t>(check(fork(), "fork"));
        if (w.pid == 0) {  // the child ends here, whatever happens: never in main's code
            int code = 1;
            try {
                // The child inherited the parent's ends of every other worker's pipes.
                // Close them: a stray copy of a task pipe's write end would keep that
                // worker from ever seeing EOF at shutdown.
                for (auto& other : workers_) { other.tasks.close(); other.results.close(); }
                task_write.close();
                result_read.close();
                for (Task task; receive(task_read.get(), task);)
                    send(result_write.get(), execute(task));
                code = 0;
            } catch (...) {}
            std::fflush(stdout);
            _exit(code);
        }
        w.tasks = std::move(task_write);     // the child's ends close when we return
        w.results = std::move(result_read);
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
            if (distributor.retry(w.task)) {
                std::cout << "pool: task " << w.task.id << ": " << why << " (attempt "
                          << w.task.attempt << "); retrying on a new worker\n";
            } else {
                std::cout << "pool: task " << w.task.id << ": " << why << " (attempt "
                          << w.task.attempt << "); giving up\n";
                collector.add_failure(w.task.id, why + ", " + std::to_string(kMaxAttempts) + " attempts");
            }
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

int task_argument(int id) { return id == 7 ? -5 : 20'000 + 1'000 * id; }
Kind task_kind(int id) { return id == 11 ? Kind::kFlaky : id == 17 ? Kind::kCrash : Kind::kCountPrimes; }

}  // namespace

int run() {
    std::cout << kTasks << " tasks (count primes below n) on " << kWorkers << " workers; "
              << "task 7 has a bad argument, task 11 crashes on its first attempt, "
              << "task 17 always crashes\n";
    Distributor distributor;
    for (int id = 0; id < kTasks; ++id)
        distributor.submit(Task{id, task_kind(id), task_argument(id), 1});
    ResultCollector collector;
    int replaced = 0;
    {
        WorkerPool pool(kWorkers);
        pool.run(distributor, collector, kTasks);
        replaced = pool.replaced();
        pool.shutdown();   // every task has an outcome: the workers are idle
    }

    int ok = 0, verified = 0, failed = 0;
    for (auto& [id, r] : collector.results()) {
        if (r.ok) {
            ++ok;
            verified += (r.value == count_primes_below(task_argument(id)));
        } else {
            ++failed;
            std::cout << "task " << id << " failed: " << r.error << '\n';
        }
    }
    std::cout << "results: " << collector.size() << " of " << kTasks << " tasks accounted for; "
              << ok << " ok (" << verified << " verified), " << failed << " failed; "
              << replaced << " workers replaced\n";
    const bool as_expected = collector.size() == kTasks && ok == kTasks - 2 && verified == ok &&
                             failed == 2 && replaced == 3;
    std::cout << "every task has an outcome and the pool survived: "
              << (as_expected ? "yes" : "no") << '\n';
    return as_expected ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "task_framework: " << e.what() << '\n';
        return 1;
    }
}
