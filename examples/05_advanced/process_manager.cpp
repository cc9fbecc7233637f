// process_manager.cpp — a process manager: start workers, submit tasks, collect
// results by id (with a timeout), map/starmap, and stop cleanly.
//
// Python's tutorial builds this from Process, two Queues and a Pool. Here the
// task and result queues are SOCK_SEQPACKET socket pairs: every message
// arrives whole, and several workers may read the same socket safely.
// Tasks are named by an enum: code cannot travel between processes, but
// after fork() every worker already has all of it.
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {


using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Owns one file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) { reset(); fd_ = std::exchange(other.fd_, -1); }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

// ------------------------------------------------------ what workers can do
enum class Fn : int { Square, Add, Divide, Slow };

long run_task(Fn fn, long a, long b) {
    switch (fn) {
    case Fn::Square: return a * a;
    case Fn::Add: return a + b;
    case Fn::Divide:
        if (b == 0) throw std::domain_error("division by zero");
        return a / b;
    case Fn::Slow: std::this_thread::sleep_for(Ms(a)); return a;
    }
    throw std::invalid_argument("unknown function");
}

// ------------------------------------------------------ wire format
struct TaskMsg { std::uint64_t id; Fn fn; long a, b; };   // id 0: "stop"
struct ResultMsg { std::uint64_t id; bool ok; long value; char error[96]; };

struct TaskFailed : std::runtime_error { using std::runtime_error::runtime_error; };
struct Timeout : std::runtime_error { using std::runtime_error::runtime_error; };

template <class T> void send_msg(int fd, const T& m) {
    check(static_cast<int>(::send(fd, &m, sizeof m, MSG_NOSIGNAL)), "send");
}
template <class T> bool recv_msg(int fd, T& m) {
    ssize_t n;
    while ((n = ::recv(fd, &m, sizeof m, 0)) == -1 && errno == EINTR) {}
    check(static_cast<int>(n), "recv");
    return n == static_cast<ssize_t>(sizeof m);
}

/// A worker's life. It ends here, whatever happens: never in main's code.
[[noreturn]] void worker_main(int tasks, int results) {
    int code = 0;
    try {
        TaskMsg t{};
        while (recv_msg(tasks, t) && t.id != 0) {
            ResultMsg r{t.id, true, 0, {}};
            try {
                r.value = run_task(t.fn, t.a, t.b);
            } catch (const std::exception& e) {   // the error travels back as text
                r.ok = false;
                std::snprintf(r.error, sizeof r.error, "%s", e.what());
            }
            send_msg(results, r);
        }
    } catch (const std::exception& e) {   // the channel itself failed
        std::fprintf(stderr, "process_manager: worker: %s\n", e.what());
        code = 1;
    }
    std::fflush(stdout);
    ::_exit(code);
}

/// The manager. Destroying it stops the workers (gracefully, then by force).
class ProcessManager {
public:
    explicit ProcessManager(int workers) {
        int t[2], r[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, t), "socketpair");
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r), "socketpair");
        tasks_ = Fd(t[0]), results_ = Fd(r[0]);
        Fd worker_tasks(t[1]), worker_results(r[1]);
        std::fflush(stdout);
        try {
            for (int i = 0; i < workers; ++i) {
                pid_t pid = check(::fork(), "fork");
                if (pid == 0) {
                    tasks_.reset();
                    results_.reset();
                    worker_main(worker_tasks.get(), worker_results.get());
                }
                pids_.push_back(pid);
            }
        } catch (...) {   // the destructor will not run: stop the workers we have
            stop();
            throw;
        }
    }
    ~ProcessManager() { stop(); }
    ProcessManager(const ProcessManager&) = delete;
    ProcessManager& operator=(const ProcessManager&) = delete;

    /// Queues one task; returns its id (Python: submit_task / apply_async).
    std::uint64_t submit(Fn fn, long a, long b = 0) {
        std::uint64_t id = next_id_++;
        send_msg(tasks_.get(), TaskMsg{id, fn, a, b});
        return id;
    }

    /// The result of task `id`; throws TaskFailed or Timeout. Results of other
    /// tasks that arrive meanwhile are kept for later, never re-queued.
    long get(std::uint64_t id, Ms timeout = 5s) {
        auto deadline = Clock::now() + timeout;
        while (!done_.count(id)) {
            auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now());
            pollfd p{results_.get(), POLLIN, 0};
            int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
            if (ready == -1 && errno == EINTR) continue;
            check(ready, "poll");
            if (ready == 0) throw Timeout("task " + std::to_string(id) + " not done after " +
                                          std::to_string(timeout.count()) + " ms");
            ResultMsg r{};
            if (!recv_msg(results_.get(), r)) throw std::runtime_error("all workers are gone");
            done_[r.id] = r;
        }
        ResultMsg r = done_[id];
        done_.erase(id);
        if (!r.ok) throw TaskFailed("task " + std::to_string(id) + " failed: " + r.error);
        return r.value;
    }

    /// Ordered results, computed in parallel (Python: Pool.map).
    std::vector<long> map(Fn fn, const std::vector<long>& items) {
        std::vector<std::uint64_t> ids;
        for (long x : items) ids.push_back(submit(fn, x));
        std::vector<long> out;
        for (auto id : ids) out.push_back(get(id));
        return out;
    }

    /// Two arguments per task (Python: Pool.starmap).
    std::vector<long> starmap(Fn fn, const std::vector<std::pair<long, long>>& items) {
        std::vector<std::uint64_t> ids;
        for (auto [a, b] : items) ids.push_back(submit(fn, a, b));
        std::vector<long> out;
        for (auto id : ids) out.push_back(get(id));
        return out;
    }

    int alive() const {
        int n = 0;
        for (pid_t pid : pids_) n += ::kill(pid, 0) == 0;
        return n;
    }

    /// One stop message per worker, a grace period, then SIGKILL for stragglers.
    /// Returns how many workers exited cleanly.
    int stop(Ms grace = 1s) {
        if (pids_.empty()) return 0;
        const TaskMsg bye{0, Fn::Square, 0, 0};  // not checked: a dead worker gets SIGKILL below
        for (size_t i = 0; i < pids_.size(); ++i) (void)::send(tasks_.get(), &bye, sizeof bye, MSG_NOSIGNAL);
        auto deadline = Clock::now() + grace;
        int clean = 0;
        for (pid_t pid : pids_) {
            int status = 0;
            pid_t r;
            while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && Clock::now() < deadline)
                std::this_thread::sleep_for(5ms);
            if (r == 0) { ::kill(pid, SIGKILL); ::waitpid(pid, &status, 0); }
            clean += r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return clean;
    }

private:
    Fd tasks_, results_;
    std::vector<pid_t> pids_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, ResultMsg> done_;
};

std::string join(const std::vector<long>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: process_manager (takes no arguments)\n");
        return 2;
    }
    bool ok = true;
    auto claim = [&](bool holds, const char* text) {
        std::printf("  %s %s\n", holds ? "ok:" : "FAIL:", text);
        ok = ok && holds;
    };

    try {
    ProcessManager manager(3);
    std::printf("manager: %d workers started\n", manager.alive());

    std::printf("submit one task, then collect it by id\n");
    long r = manager.get(manager.submit(Fn::Square, 7));
    std::printf("  square(7) = %ld\n", r);
    claim(r == 49, "single task result");

    std::printf("map and starmap: parallel, results in submission order\n");
    auto squares = manager.map(Fn::Square, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
    std::printf("  map(square, 0..9) = %s\n", join(squares).c_str());
    auto sums = manager.starmap(Fn::Add, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}});
    std::printf("  starmap(add, (i, i+1)) = %s\n", join(sums).c_str());
    claim(squares == std::vector<long>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81} &&
          sums == std::vector<long>{1, 3, 5, 7, 9}, "ordered results");

    std::printf("a failing task: the error comes back, the manager carries on\n");
    std::uint64_t bad = manager.submit(Fn::Divide, 10, 0);
    try {
        manager.get(bad);
        claim(false, "the failure should have been reported");
    } catch (const TaskFailed& e) {
        std::printf("  caught: %s\n", e.what());
        claim(std::strstr(e.what(), "division by zero") != nullptr, "the worker's exception reached the caller");
    }
    claim(manager.get(manager.submit(Fn::Divide, 84, 2)) == 42, "the next task still works");

    std::printf("a slow task and a timeout\n");
    std::uint64_t slow = manager.submit(Fn::Slow, 300);
    try {
        manager.get(slow, 50ms);
        claim(false, "the timeout should have fired");
    } catch (const Timeout& e) {
        std::printf("  caught: %s\n", e.what());
    }
    claim(manager.get(slow, 2s) == 300, "after the timeout, the same task can still be collected");

    std::printf("stop: one stop message per worker, then reap\n");
    int clean = manager.stop();
    std::printf("  %d of 3 workers exited with code 0\n", clean);
    claim(clean == 3, "orderly shutdown");
    return ok ? 0 : 1;
    } catch (const std::exception& e) {   // ~ProcessManager has stopped every worker
        std::fflush(stdout);
        std::fprintf(stderr, "process_manager: %s\n", e.what());
        return 1;
    }
}
