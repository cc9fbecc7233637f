// pool_recover.cpp - step 5: a worker that crashes or hangs. Each worker now has its
// own task pipe, so the parent knows which task each one holds, and a pidfd, so poll()
// wakes up when one dies. A task whose worker crashed is tried once more; a task past
// its deadline gets its worker killed and fails (TimeoutError). Either way a new
// worker is forked in the dead one's place, and the other tasks go on.
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;
using Clock = std::chrono::steady_clock;

std::int64_t risky(std::int64_t x, std::int64_t attempt) {  // 2 crashes once, 3 always, 5 hangs
    if (x == 2 && attempt == 0) {  // SIG_DFL first: a sanitizer's handler would catch it
        std::signal(SIGSEGV, SIG_DFL);
        std::raise(SIGSEGV);
    }
    if (x == 3) std::abort();
    if (x == 5) ::pause();
    return x * x;
}

struct Task { std::int64_t index, arg, attempt; };
struct Reply { std::int64_t index, value; };
struct Worker { pid_t pid = -1; Fd task_fd, pidfd; std::int64_t task = -1; Clock::time_point deadline; };

class Pool {
public:
    Pool(int n, std::chrono::milliseconds limit) : Pool(limit) {  // if this throws, ~Pool() runs
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        replies_read_ = Fd(fds[0]), replies_write_ = Fd(fds[1]);
        workers_.resize(static_cast<std::size_t>(n));
        for (Worker& w : workers_) start(w);
    }
    ~Pool() { for (Worker& w : workers_) retire(w, true); }  // terminate(): kill and reap
    std::vector<std::string> map(const std::vector<std::int64_t>& xs) {
        std::vector<std::string> out(xs.size());
        std::vector<std::int64_t> attempts(xs.size(), 0);
        std::deque<std::int64_t> queue;  // task indices still to run
        for (std::size_t i = 0; i < xs.size(); ++i) queue.push_back(static_cast<std::int64_t>(i));
        std::size_t done = 0;
        while (done < xs.size()) {
            std::vector<pollfd> fds{{replies_read_.get(), POLLIN, 0}};
            auto wake = Clock::now() + limit_;
            for (Worker& w : workers_) {
                if (w.task == -1 && !queue.empty()) {  // an idle worker gets the next task
                    const std::int64_t i = queue.front();
                    queue.pop_front();
                    const Task t{i, xs[static_cast<std::size_t>(i)], attempts[static_cast<std::size_t>(i)]};
                    send(w.task_fd.get(), t);
                    w.task = i;
                    w.deadline = Clock::now() + limit_;
                }
                if (w.task != -1 && w.deadline < wake) wake = w.deadline;
                fds.push_back({w.pidfd.get(), POLLIN, 0});
            }
            const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
            check(::poll(fds.data(), fds.size(), ms > 0 ? static_cast<int>(ms) : 0), "poll");
            if (fds[0].revents & POLLIN) {  // a result: replies first, deaths after
                Reply r;
                receive(replies_read_.get(), r);  // poll() said readable; we hold a write end
                out[static_cast<std::size_t>(r.index)] = std::to_string(r.value);
                for (Worker& w : workers_) if (w.task == r.index) w.task = -1;
                ++done;
                continue;
            }
            for (std::size_t i = 0; i < workers_.size(); ++i) {
                Worker& w = workers_[i];
                const bool died = fds[i + 1].revents & POLLIN, late = w.task != -1 && Clock::now() >= w.deadline;
                if (!died && !late) continue;
                const std::int64_t task = w.task;
                const int status = retire(w, late);  // late: SIGKILL first
                if (task != -1 && !late && ++attempts[static_cast<std::size_t>(task)] < 2) {
                    queue.push_back(task);  // crashed: one more try on a fresh worker
                } else if (task != -1) {
                    out[static_cast<std::size_t>(task)] = late ? "TimeoutError (worker killed)"
                        : "WorkerLost (signal " + std::to_string(WTERMSIG(status)) + ", 2 attempts)";
                    ++done;
                }
                start(w);  // a new worker in the same slot
            }
        }
        return out;
    }

private:
    explicit Pool(std::chrono::milliseconds limit) : limit_(limit) {}
    void start(Worker& w) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        Fd task_read(fds[0]);
        w.task_fd = Fd(fds[1]);
        std::cout.flush();
        w.pid = check(::fork(), "fork");
        if (w.pid == 0) child([&] {  // the worker: read a task, run it, reply, until end of file
            for (Task task; receive(task_read.get(), task);)
                send(replies_write_.get(), Reply{task.index, risky(task.arg, task.attempt)});
            return 0;
        });
        w.pidfd = Fd(check(::syscall(SYS_pidfd_open, w.pid, 0), "pidfd_open"));
    }
    int retire(Worker& w, bool kill) {  // returns the wait status; the slot is empty after
        int status = 0;
        if (w.pid > 0 && (!kill || ::kill(w.pid, SIGKILL) == 0)) ::waitpid(w.pid, &status, 0);
        w = Worker{};  // closes its task pipe and pidfd
        return status;
    }
    std::vector<Worker> workers_;
    std::chrono::milliseconds limit_;
    Fd replies_read_, replies_write_;
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_recover", [] {
        Pool pool(2, std::chrono::milliseconds(200));
        const auto out = pool.map({0, 1, 2, 3, 4, 5, 6, 7});
        for (std::size_t i = 0; i < out.size(); ++i) std::cout << "task " << i << ": " << out[i] << '\n';
        const bool ok = out[2] == "4" && out[3] == "WorkerLost (signal 6, 2 attempts)" &&
                        out[5] == "TimeoutError (worker killed)" && out[7] == "49";
        std::cout << (ok ? "OK" : "FAILED") << ": a retried crash, a lost task, a hang; new workers did the rest\n";
        return ok;
    });
}
