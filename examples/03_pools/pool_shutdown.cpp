// pool_shutdown.cpp - step 7: the two ways a pool ends. close() queues one "stop"
// record per worker behind the tasks (Python's Pool sends None), so join() returns
// once every queued task is done. terminate() does not wait for tasks: SIGTERM, a
// grace period watched through a pidfd, then SIGKILL for a worker that ignores it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace {
int check(long rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return static_cast<int>(rc);
}

constexpr std::int64_t kStop = -1;  // the sentinel that close() queues

class Pool {
public:
    explicit Pool(int n, bool first_blocks_sigterm = false) : Pool() {  // if it throws, ~Pool() runs
        check(::pipe2(tasks_, O_CLOEXEC), "pipe2");
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        for (int i = 0; i < n; ++i) {
            const bool stubborn = i == 0 && first_blocks_sigterm;  // a worker stuck with SIGTERM blocked
            if (stubborn) ::sigprocmask(SIG_BLOCK, &term, nullptr);  // the child inherits the mask
            std::cout.flush();
            const pid_t pid = ::fork();
            if (pid == 0) _exit(work());
            if (stubborn) ::sigprocmask(SIG_UNBLOCK, &term, nullptr);
            pids_.push_back(check(pid, "fork"));
            pidfds_.push_back(check(::syscall(SYS_pidfd_open, pid, 0), "pidfd_open"));
        }
    }
    ~Pool() {  // a pool left without join(): kill, reap, close
        for (pid_t p : pids_) if (p > 0 && ::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
        for (int fd : pidfds_) ::close(fd);
        for (int fd : tasks_) if (fd != -1) ::close(fd);
    }
    void submit(std::int64_t ms) {
        if (closed_) throw std::logic_error("submit() after close()");  // Python: ValueError
        check(::write(tasks_[1], &ms, sizeof ms), "write");
    }
    void close() {  // one stop record per worker, behind the queued tasks
        for (std::size_t i = 0; i < pids_.size(); ++i) check(::write(tasks_[1], &kStop, sizeof kStop), "write");
        closed_ = true;
    }
    int join() {  // after close(): each worker ends by itself; returns how many exited 0
        int clean = 0;
        for (pid_t& p : pids_) {
            int status = 0;
            check(::waitpid(p, &status, 0), "waitpid");
            p = -1;
            clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        return clean;
    }
    int terminate(int grace_ms) {  // returns how many needed SIGKILL
        int killed = 0;
        for (pid_t p : pids_) check(::kill(p, SIGTERM), "kill");
        for (std::size_t i = 0; i < pids_.size(); ++i) {
            pollfd pfd{pidfds_[i], POLLIN, 0};
            const bool ended = check(::poll(&pfd, 1, grace_ms), "poll") == 1;  // bounded
            if (!ended) killed += check(::kill(pids_[i], SIGKILL), "kill") == 0;
            int status = 0;
            check(::waitpid(pids_[i], &status, 0), "waitpid");
            pids_[i] = -1;
            std::cout << "  worker " << i << ": " << (ended ? "ended by SIGTERM" : "ignored SIGTERM, SIGKILL after the grace")
                      << " (signal " << WTERMSIG(status) << ")\n";
        }
        return killed;
    }

private:
    Pool() = default;
    int work() {  // tasks are "sleep this many ms"
        std::int64_t ms;
        while (::read(tasks_[0], &ms, sizeof ms) == sizeof ms && ms != kStop) ::usleep(static_cast<useconds_t>(ms * 1000));
        return 0;
    }
    int tasks_[2]{-1, -1};
    bool closed_ = false;
    std::vector<pid_t> pids_;
    std::vector<int> pidfds_;
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
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
        return refused && clean == 2 && killed == 1 ? 0 : 1;
    } catch (const std::exception& e) {  // main catches: the call's name and errno
        std::cerr << "pool_shutdown: " << e.what() << '\n';
        return 1;
    }
}
