// pool_lifecycle.cpp — a pool's life: worker initialisers, maxtasksperchild, and the
// three ways to end it: close() + join() (finish the work) or terminate() (stop now).
//
// Python:  Pool(2, initializer=init, maxtasksperchild=3)
//          pool.close(); pool.join()      or      pool.terminate()
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

void check(bool ok, const char* what)
{
    if (!ok) throw std::system_error(errno, std::generic_category(), what);
}

void send_all(int fd, const void* data, std::size_t n)
{
    auto p = static_cast<const char*>(data);
    while (n > 0) {
        ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        check(k >= 0, "send");
        p += k;
        n -= static_cast<std::size_t>(k);
    }
}

bool recv_all(int fd, void* data, std::size_t n)  // false: the peer is gone
{
    auto p = static_cast<char*>(data);
    while (n > 0) {
        ssize_t k = ::read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno == ECONNRESET) return false;
        check(k >= 0, "read");
        if (k == 0) return false;
        p += k;
        n -= static_cast<std::size_t>(k);
    }
    return true;
}

std::string describe(int status)
{
    if (WIFSIGNALED(status)) return std::string("killed by ") + ::sigabbrev_np(WTERMSIG(status));
    return "exit status " + std::to_string(WEXITSTATUS(status));
}

// ---- per-worker state, set up by the initializer ----------------------------------------
// Each worker is its own process, so these globals are per worker: the natural home for
// what Python's initializer sets up (a database connection, a loaded model, a seed...).
int g_init_calls = 0;
int g_tasks_run = 0;

void init_worker() { ++g_init_calls; }

struct TaskMsg {
    std::uint32_t task;
    std::int64_t sleep_ms;
};
struct ResultMsg {
    std::uint32_t task;
    pid_t worker;
    std::int32_t init_calls;  // how often init_worker ran in this worker (must be 1)
    std::int32_t nth;         // this was the worker's nth task
};

ResultMsg run_task(const TaskMsg& t)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(t.sleep_ms));
    return {t.task, ::getpid(), g_init_calls, ++g_tasks_run};
}

class Pool {
public:
    Pool(std::size_t workers, std::function<void()> initializer, std::size_t max_tasks_per_child)
        : initializer_(std::move(initializer)), max_tasks_(max_tasks_per_child)
    {
        for (std::size_t i = 0; i < workers; ++i) slots_.push_back(spawn());
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool() { terminate(); }  // like leaving Python's `with Pool() as pool:` block

    // Py: apply_async without a result handle: results are collected in results().
    void submit(std::int64_t sleep_ms)
    {
        if (closed_) throw std::logic_error("submit() after close()");
        queue_.push_back({next_id_++, sleep_ms});
        dispatch();
    }

    void close() { closed_ = true; }  // Py: close() — no new tasks, the queued ones still run

    // Py: join() — wait for every queued task, then for every worker to exit.
    void join()
    {
        if (!closed_) throw std::logic_error("join() before close()");
        while (busy() || !queue_.empty()) wait_for_results();
        for (auto& w : slots_) retire(w, "pool joined");
        slots_.clear();
    }

    // Py: terminate() — SIGTERM to every worker now; unfinished tasks are dropped.
    void terminate()
    {
        closed_ = true;
        for (auto& w : slots_) {
            if (w.task) ++cancelled_;
            check(::kill(w.pid, SIGTERM) == 0, "kill");
            retire(w, "terminated");
        }
        cancelled_ += queue_.size();
        queue_.clear();
        slots_.clear();
    }

    const std::vector<ResultMsg>& results() const { return results_; }
    const std::vector<std::string>& exits() const { return exits_; }
    std::size_t cancelled() const { return cancelled_; }
    std::size_t started() const { return started_; }

private:
    struct Worker {
        pid_t pid = -1;
        int fd = -1;
        bool task = false;
        std::size_t done = 0;
    };

    Worker spawn()
    {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        std::cout.flush();
        pid_t pid = ::fork();
        check(pid >= 0, "fork");
        if (pid == 0) {
            for (auto& w : slots_)  // the other workers' sockets; -1 for a retired one
                if (w.fd >= 0) ::close(w.fd);
            ::close(sv[0]);
            if (initializer_) initializer_();  // once per worker, before any task
            TaskMsg t;
            while (recv_all(sv[1], &t, sizeof t)) {
                ResultMsg r = run_task(t);
                send_all(sv[1], &r, sizeof r);
            }
            ::_exit(0);
        }
        ::close(sv[1]);
        ++started_;
        return {pid, sv[0], false, 0};
    }

    // Close its socket (the worker reads end of file and returns from its loop), wait
    // for it, and record how it ended.
    void retire(Worker& w, const std::string& why)
    {
        ::close(w.fd);
        w.fd = -1;  // the number is free now: the next socketpair() may reuse it, and a
                    // replacement child closes every slot's fd (see spawn())
        int status = 0;
        while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {}
        exits_.push_back("worker " + std::to_string(w.pid) + " " + why + ": " + describe(status));
    }

    bool busy() const
    {
        for (auto& w : slots_)
            if (w.task) return true;
        return false;
    }

    void dispatch()
    {
        for (auto& w : slots_) {
            if (w.task || queue_.empty()) continue;
            send_all(w.fd, &queue_.front(), sizeof(TaskMsg));
            queue_.pop_front();
            w.task = true;
        }
    }

    void wait_for_results()
    {
        std::vector<pollfd> fds;
        for (auto& w : slots_) fds.push_back({w.fd, POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0 && errno == EINTR) return;
        check(n >= 0, "poll");
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (!fds[i].revents) continue;
            Worker& w = slots_[i];
            ResultMsg r;
            if (!recv_all(w.fd, &r, sizeof r)) throw std::runtime_error("a worker died");
            results_.push_back(r);
            w.task = false;
            // maxtasksperchild: the parent retires the worker after its last task and
            // forks a fresh one, so nothing a task leaked can pile up for long.
            if (max_tasks_ && ++w.done == max_tasks_) {
                retire(w, "retired after " + std::to_string(max_tasks_) + " tasks");
                w = spawn();
            }
        }
        dispatch();
    }

    std::function<void()> initializer_;
    std::size_t max_tasks_;
    std::vector<Worker> slots_;
    std::deque<TaskMsg> queue_;
    std::vector<ResultMsg> results_;
    std::vector<std::string> exits_;
    std::uint32_t next_id_ = 0;
    std::size_t cancelled_ = 0, started_ = 0;
    bool closed_ = false;
};

}  // namespace

int main(int argc, char**)
{
    if (argc > 1) {
        std::cerr << "usage: pool_lifecycle\n";
        return 2;
    }
    bool ok = true;

    // 1. initializer + maxtasksperchild=3, then close() and join().
    {
        Pool pool(2, init_worker, 3);
        for (int i = 0; i < 12; ++i) pool.submit(10);
        pool.close();
        bool refused = false;
        try {
            pool.submit(10);
        } catch (const std::logic_error&) {
            refused = true;
        }
        std::cout << "submit after close() refused: " << (refused ? "yes" : "NO") << '\n';
        pool.join();

        std::map<pid_t, int> per_worker;
        bool init_once = true;
        for (auto& r : pool.results()) {
            ++per_worker[r.worker];
            init_once = init_once && r.init_calls == 1;
        }
        int most = 0;
        std::size_t reached_limit = 0;  // workers that ran the full 3 tasks
        for (auto& [pid, n] : per_worker) {
            most = std::max(most, n);
            reached_limit += n == 3;
        }
        std::cout << "join(): " << pool.results().size() << " of 12 tasks done by "
                  << per_worker.size() << " workers, at most " << most << " tasks each\n";
        std::cout << "initializer ran exactly once in every worker: "
                  << (init_once ? "yes" : "NO") << '\n';
        std::size_t retired = 0, clean = 0;
        for (auto& e : pool.exits()) {
            retired += e.find("retired after 3 tasks") != std::string::npos;
            clean += e.ends_with("exit status 0");
        }
        // Every worker that reached the limit was retired; the last ones may stop short.
        std::cout << "workers retired by maxtasksperchild: " << retired << ", all "
                  << pool.exits().size() << " exits clean (status 0): "
                  << (clean == pool.exits().size() ? "yes" : "NO") << '\n';
        ok = ok && refused && pool.results().size() == 12 && per_worker.size() >= 4 &&
             most <= 3 && init_once && retired == reached_limit && clean == pool.exits().size();
    }

    // 2. terminate(): four 5-second tasks, stopped at once.
    {
        auto t0 = std::chrono::steady_clock::now();
        Pool pool(2, init_worker, 0);
        for (int i = 0; i < 4; ++i) pool.submit(5000);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let them start
        pool.terminate();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
        for (auto& e : pool.exits()) std::cout << e << '\n';
        bool killed = pool.exits().size() == 2;
        for (auto& e : pool.exits()) killed = killed && e.ends_with("killed by TERM");
        std::cout << "terminate(): " << pool.cancelled() << " unfinished tasks dropped, "
                  << "workers killed by SIGTERM: " << (killed ? "yes" : "NO") << " (after " << ms
                  << " ms, not the 5 s a task takes)\n";
        ok = ok && killed && pool.cancelled() == 4 && pool.results().empty();
    }

    std::cout << (ok ? "OK" : "FAILED")
              << ": initializer, maxtasksperchild, close/join and terminate behave\n";
    return ok ? 0 : 1;
}
