// pool_shutdown.cpp - step 7: the two ways a pool ends. close() queues one "stop"
// record per worker behind the tasks (Python's Pool sends None), so join() returns
// once every queued task is done. terminate() does not wait for tasks: SIGTERM, a
// grace period watched through a pidfd, then SIGKILL for a worker that ignores it.
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstdint>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

constexpr std::int64_t kStop = -1;  // the sentinel that close() queues

class Pool {
public:
    explicit Pool(int n, bool first_blocks_sigterm = false) {  // a throw destroys the members
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        tasks_read_ = Fd(fds[0]), tasks_write_ = Fd(fds[1]);
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        for (int i = 0; i < n; ++i) {
            const bool stubborn = i == 0 && first_blocks_sigterm;  // a worker stuck with SIGTERM blocked
            if (stubborn) ::sigprocmask(SIG_BLOCK, &term, nullptr);  // the child inherits the mask
            std::cout.flush();
            const pid_t pid = ::fork();
            if (pid == 0) child([this] { return work(); });
            if (stubborn) ::sigprocmask(SIG_UNBLOCK, &term, nullptr);
            workers_.pids.push_back(check(pid, "fork"));
            pidfds_.emplace_back(check(::syscall(SYS_pidfd_open, pid, 0), "pidfd_open"));
        }
    }
    void submit(std::int64_t ms) {
        if (closed_) throw std::logic_error("submit() after close()");  // Python: ValueError
        send(tasks_write_.get(), ms);
    }
    void close() {  // one stop record per worker, behind the queued tasks
        for (std::size_t i = 0; i < workers_.pids.size(); ++i) send(tasks_write_.get(), kStop);
        closed_ = true;
    }
    int join() {  // after close(): each worker ends by itself; returns how many exited 0
        int clean = 0;
        for (pid_t& p : workers_.pids) {
            int status = 0;
            check(::waitpid(p, &status, 0), "waitpid");
            p = -1;
            clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        return clean;
    }
    int terminate(int grace_ms) {  // returns how many needed SIGKILL
        int killed = 0;
        for (pid_t p : workers_.pids) check(::kill(p, SIGTERM), "kill");
        for (std::size_t i = 0; i < workers_.pids.size(); ++i) {
            pollfd pfd{pidfds_[i].get(), POLLIN, 0};
            const bool ended = check(::poll(&pfd, 1, grace_ms), "poll") == 1;  // bounded
            if (!ended) killed += check(::kill(workers_.pids[i], SIGKILL), "kill") == 0;
            int status = 0;
            check(::waitpid(workers_.pids[i], &status, 0), "waitpid");
            workers_.pids[i] = -1;
            std::cout << "  worker " << i << ": " << (ended ? "ended by SIGTERM" : "ignored SIGTERM, SIGKILL after the grace")
                      << " (signal " << WTERMSIG(status) << ")\n";
        }
        return killed;
    }

private:
    int work() {  // tasks are "sleep this many ms"
        std::int64_t ms;
        while (receive(tasks_read_.get(), ms) && ms != kStop) ::usleep(static_cast<useconds_t>(ms * 1000));
        return 0;
    }
    struct Workers {  // a pool left without join(): kill and reap
        std::vector<pid_t> pids;
        ~Workers() { for (pid_t p : pids) if (p > 0 && ::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    };
    Fd tasks_read_, tasks_write_;
    bool closed_ = false;
    std::vector<Fd> pidfds_;
    Workers workers_;  // last: destroyed first, before the pipe closes
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_shutdown", [] {
        Pool gentle(2);
        for (int i = 0; i < 6; ++i) gentle.submit(10);
        gentle.close();  // no new work; the 6 queued tasks still run
        bool refused = false;
        try { gentle.submit(10); } catch (const std::logic_error&) { refused = true; }
        const int clean = gentle.join();
        std::cout << "submit() after close(): " << (refused ? "refused" : "ACCEPTED") << '\n'
                  << "close() + join(): " << clean << " of 2 workers exited 0 after the queue drained\n";
        Pool abrupt(2, true);
        for (int i = 0; i < 6; ++i) abrupt.submit(1000);
        std::cout << "terminate() with 6 one-second tasks queued:\n";
        const int killed = abrupt.terminate(100);
        return refused && clean == 2 && killed == 1;
    });
}
