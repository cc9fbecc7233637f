// pool_terminate.cpp - step 7b: a pool that ends now. terminate() does not wait for the
// queued tasks: SIGTERM to every worker, a grace period watched through a pidfd, then
// SIGKILL for a worker that ignores SIGTERM (here worker 0, which blocks it).
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstdint>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

class Pool {
public:
    explicit Pool(int n, bool first_blocks_sigterm) {  // a throw destroys the members built so far
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
    void submit(std::int64_t ms) { send(tasks_write_.get(), ms); }
    int terminate(int grace_ms) {  // returns how many needed SIGKILL
        int killed = 0;
        for (pid_t p : workers_.pids) check(::kill(p, SIGTERM), "kill");
        for (std::size_t i = 0; i < workers_.pids.size(); ++i) {
            pollfd pfd{pidfds_[i].get(), POLLIN, 0};
            const bool ended = check(::poll(&pfd, 1, grace_ms), "poll") == 1;  // bounded
            if (!ended) killed += check(::kill(workers_.pids[i], SIGKILL), "kill") == 0;
            int status = 0;
            check(::waitpid(workers_.pids[i], &status, 0), "waitpid");  // it has ended, or SIGKILL ends it
            workers_.pids[i] = -1;  // reaped: the PID may now belong to someone else
            std::cout << "  worker " << i << ": " << (ended ? "ended by SIGTERM" : "ignored SIGTERM, SIGKILL after the grace")
                      << " (signal " << WTERMSIG(status) << ")\n";
        }
        return killed;
    }

private:
    int work() {  // tasks are "sleep this many ms", until end of file
        std::int64_t ms;
        while (receive(tasks_read_.get(), ms)) ::usleep(static_cast<useconds_t>(ms * 1000));
        return 0;
    }
    struct Workers {  // a pool left without terminate(): kill and reap
        std::vector<pid_t> pids;
        ~Workers() { for (pid_t p : pids) if (p > 0 && ::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    };
    Fd tasks_read_, tasks_write_;
    std::vector<Fd> pidfds_;
    Workers workers_;  // last: destroyed first, before the pipe closes
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_terminate", [] {
        Pool pool(2, true);
        for (int i = 0; i < 6; ++i) pool.submit(1000);
        std::cout << "terminate() with 6 one-second tasks queued:\n";
        const int killed = pool.terminate(100);
        return killed == 1;
    });
}
