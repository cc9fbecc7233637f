// pool_recover.cpp - step 5: a worker that crashes or hangs. Each worker now has its
// own task pipe, so the parent knows which task each one holds, and a pidfd, so poll()
// wakes up when one dies. A task whose worker crashed is tried once more; a task past
// its deadline gets its worker killed and fails (TimeoutError). Either way a new
// worker is forked in the dead one's place, and the other tasks go on.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

int check(long rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return static_cast<int>(rc);
}

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
struct Worker { pid_t pid = -1; int task_fd = -1, pidfd = -1; std::int64_t task = -1; Clock::time_point deadline; };

class Pool {
public:
    Pool(int n, std::chrono::milliseconds limit) : Pool(limit) {  // if this throws, ~Pool() runs
        check(::pipe2(replies_, O_CLOEXEC), "pipe2");
        workers_.resize(static_cast<std::size_t>(n));
        for (Worker& w : workers_) start(w);
    }
    ~Pool() {  // terminate(): kill and reap every worker, close everything
        for (Worker& w : workers_) retire(w, true);
        for (int fd : replies_) if (fd != -1) ::close(fd);
    }
    std::vector<std::string> map(const std::vector<std::int64_t>& xs) {
        std::vector<std::string> out(xs.size());
        std::vector<std::int64_t> attempts(xs.size(), 0);
        std::deque<std::int64_t> queue;  // task indices still to run
        for (std::size_t i = 0; i < xs.size(); ++i) queue.push_back(static_cast<std::int64_t>(i));
        std::size_t done = 0;
        while (done < xs.size()) {
            std::vector<pollfd> fds{{replies_[0], POLLIN, 0}};
            auto wake = Clock::now() + limit_;
            for (Worker& w : workers_) {
                if (w.task == -1 && !queue.empty()) {  // an idle worker gets the next task
                    const std::int64_t i = queue.front();
                    queue.pop_front();
                    const Task t{i, xs[static_cast<std::size_t>(i)], attempts[static_cast<std::size_t>(i)]};
                    check(::write(w.task_fd, &t, sizeof t), "write");
                    w.task = i;
                    w.deadline = Clock::now() + limit_;
                }
                if (w.task != -1 && w.deadline < wake) wake = w.deadline;
                fds.push_back({w.pidfd, POLLIN, 0});
            }
            const auto ms = std::chrono::ceil<std::chrono::milliseconds>(wake - Clock::now()).count();
            check(::poll(fds.data(), fds.size(), ms > 0 ? static_cast<int>(ms) : 0), "poll");
            if (fds[0].revents & POLLIN) {  // a result: replies first, deaths after
                Reply r;
                check(::read(replies_[0], &r, sizeof r), "read");
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
        int t[2];
        check(::pipe2(t, O_CLOEXEC), "pipe2");
        std::cout.flush();
        w.pid = ::fork();
        if (w.pid == 0) {  // the worker: read a task, run it, reply, until end of file
            Task task;
            while (::read(t[0], &task, sizeof task) == sizeof task) {
                const Reply r{task.index, risky(task.arg, task.attempt)};
                if (::write(replies_[1], &r, sizeof r) != sizeof r) _exit(1);
            }
            _exit(0);
        }
        ::close(t[0]);
        w.task_fd = t[1];
        check(w.pid, "fork");
        w.pidfd = check(::syscall(SYS_pidfd_open, w.pid, 0), "pidfd_open");
    }
    int retire(Worker& w, bool kill) {  // returns the wait status; the slot is empty after
        int status = 0;
        if (w.pid > 0 && (!kill || ::kill(w.pid, SIGKILL) == 0)) ::waitpid(w.pid, &status, 0);
        for (int fd : {w.task_fd, w.pidfd}) if (fd != -1) ::close(fd);
        w = Worker{};
        return status;
    }
    std::vector<Worker> workers_;
    std::chrono::milliseconds limit_;
    int replies_[2]{-1, -1};
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        Pool pool(2, std::chrono::milliseconds(200));
        const auto out = pool.map({0, 1, 2, 3, 4, 5, 6, 7});
        for (std::size_t i = 0; i < out.size(); ++i) std::cout << "task " << i << ": " << out[i] << '\n';
        const bool ok = out[2] == "4" && out[3] == "WorkerLost (signal 6, 2 attempts)" &&
                        out[5] == "TimeoutError (worker killed)" && out[7] == "49";
        std::cout << (ok ? "OK" : "FAILED") << ": a retried crash, a lost task, a hang; new workers did the rest\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // main catches: the call's name and errno
        std::cerr << "pool_recover: " << e.what() << '\n';
        return 1;
    }
}
