// supervisor_limit.cpp — 10 jobs in child processes, at most 3 at a time, from
// one thread that never blocks on any one child.
//
// Py:  sem = asyncio.Semaphore(3); await asyncio.gather(*jobs, return_exceptions=True)
// C++: a count of running children, one epoll set of their pidfds, and one
//      record per job: its exit code or the signal that killed it.
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <system_error>

namespace {

constexpr std::size_t kMaxRunning = 3;     // Py: asyncio.Semaphore(3)
constexpr int kJobs = 10, kCrashingJob = 8;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// A running job. Leaving early kills and reaps it (SIGKILL cannot be caught,
// so the wait is bounded) and closes its pidfd.
struct Job {
    pid_t pid = -1;  int pidfd = -1;
    ~Job() {
        if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        if (pidfd >= 0) ::close(pidfd);
    }
};

void start(int ep, std::map<int, Job>& running, int id) {
    Job& job = running[id];                    // owned before it exists
    std::cout.flush();
    job.pid = check(::fork(), "fork");
    if (job.pid == 0) {                        // the child: only C calls, then _exit
        if (id == kCrashingJob) {
            rlimit no_core{0, 0};
            ::setrlimit(RLIMIT_CORE, &no_core);   // crash quietly, leave no core file
            std::abort();
        }
        ::usleep(static_cast<useconds_t>(40'000 + (id % 3) * 30'000));   // "work"
        ::_exit(id);                           // the job's result: its exit code
    }
    job.pidfd = check(static_cast<int>(::syscall(SYS_pidfd_open, job.pid, 0)), "pidfd_open");
    epoll_event ev{};
    ev.events = EPOLLIN;                       // a pidfd is readable once the child exited
    ev.data.fd = id;                           // our tag: the job id
    check(::epoll_ctl(ep, EPOLL_CTL_ADD, job.pidfd, &ev), "epoll_ctl");
}

// Py: one entry of gather(..., return_exceptions=True): a result or the error.
std::string reap(int ep, Job& job) {
    // Later children hold a copy of this pidfd: close() alone leaves it in epoll.
    check(::epoll_ctl(ep, EPOLL_CTL_DEL, job.pidfd, nullptr), "epoll_ctl DEL");
    siginfo_t info{};
    check(::waitid(P_PIDFD, static_cast<id_t>(job.pidfd), &info, WEXITED), "waitid");
    job.pid = -1;                              // reaped: the PID may be reused now
    if (info.si_code == CLD_EXITED) return "exit code " + std::to_string(info.si_status);
    return "crashed: signal " + std::to_string(info.si_status) + " (" +
           ::strsignal(info.si_status) + ")";
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: supervisor_limit\n"; return 2; }
    try {
        int ep = check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        struct Closer { int fd; ~Closer() { ::close(fd); } } ep_owner{ep};
        std::map<int, Job> running;            // job id -> child
        std::map<int, std::string> outcome;    // job id -> what happened
        std::size_t most_at_once = 0;
        for (int next = 0; next < kJobs || !running.empty();) {
            while (running.size() < kMaxRunning && next < kJobs)   // Py: async with sem
                start(ep, running, next++);
            most_at_once = std::max(most_at_once, running.size());
            epoll_event events[kMaxRunning];
            // No time-out needed: every child here ends by itself, and its pidfd says so.
            int n = ::epoll_wait(ep, events, kMaxRunning, -1);
            if (n < 0 && errno == EINTR) continue;
            check(n, "epoll_wait");
            for (int i = 0; i < n; ++i) {
                int id = events[i].data.fd;
                outcome[id] = reap(ep, running.at(id));
                running.erase(id);             // a free slot for the next job
            }
        }
        bool ok = outcome.size() == kJobs;
        for (const auto& [id, what] : outcome) {
            std::cout << "job " << id << ": " << what << '\n';
            ok = ok && what == (id == kCrashingJob ? "crashed: signal 6 (Aborted)"
                                                   : "exit code " + std::to_string(id));
        }
        std::cout << "most children running at once: " << most_at_once << " (limit "
                  << kMaxRunning << ")\n";
        ok = ok && most_at_once == kMaxRunning;
        std::cout << (ok ? "all 10 jobs accounted for: 9 results, 1 crash" : "FAILED") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "supervisor_limit: " << e.what() << '\n';
        return 1;
    }
}
