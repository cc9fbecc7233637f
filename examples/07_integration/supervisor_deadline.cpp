// supervisor_deadline.cpp — a deadline per child, enforced from one thread.
//
// Py:  await asyncio.wait_for(job, timeout=2)   # cancels a job that is too slow
// C++: epoll_wait's time-out is the time left until the earliest deadline;
//      a child past its deadline gets SIGKILL through pidfd_send_signal.
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <system_error>

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr milliseconds kDeadline{2000};   // jobs need 50-80 ms: room for a busy machine
constexpr int kJobs = 3, kHangingJob = 1;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// A running job. Leaving early kills and reaps it (SIGKILL cannot be caught,
// so the wait is bounded) and closes its pidfd.
struct Job {
    pid_t pid = -1;  int pidfd = -1;
    Clock::time_point deadline;
    bool killed = false;
    ~Job() {
        if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        if (pidfd >= 0) ::close(pidfd);
    }
};

void start(int ep, Job& job, int id) {
    std::cout.flush();
    job.pid = check(::fork(), "fork");
    if (job.pid == 0) {                        // the child: only C calls, then _exit
        ::usleep(id == kHangingJob ? 30'000'000 : 50'000 + id * 15'000);
        ::_exit(0);
    }
    job.pidfd = check(static_cast<int>(::syscall(SYS_pidfd_open, job.pid, 0)), "pidfd_open");
    job.deadline = Clock::now() + kDeadline;
    epoll_event ev{};
    ev.events = EPOLLIN;                       // readable = the child has exited
    ev.data.fd = id;                           // our tag: the job id
    check(::epoll_ctl(ep, EPOLL_CTL_ADD, job.pidfd, &ev), "epoll_ctl");
}

// How long epoll_wait may sleep: until the earliest deadline not yet enforced.
int timeout_ms(const std::map<int, Job>& running) {
    auto earliest = Clock::time_point::max();
    for (const auto& [id, job] : running)
        if (!job.killed) earliest = std::min(earliest, job.deadline);
    if (earliest == Clock::time_point::max()) return -1;   // only killed ones left
    auto left = std::chrono::ceil<milliseconds>(earliest - Clock::now()).count();
    return static_cast<int>(std::max<long long>(left, 0));
}

// Past its deadline: SIGKILL through the pidfd. Unlike kill(pid), this can
// never hit an unrelated process that reused a reaped child's PID.
void enforce_deadlines(std::map<int, Job>& running) {
    for (auto& [id, job] : running)
        if (!job.killed && Clock::now() >= job.deadline) {
            check(static_cast<int>(::syscall(SYS_pidfd_send_signal, job.pidfd, SIGKILL,
                                             nullptr, 0)), "pidfd_send_signal");
            job.killed = true;                 // its pidfd turns readable: reaped below
        }
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: supervisor_deadline\n"; return 2; }
    try {
        int ep = check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
        struct Closer { int fd; ~Closer() { ::close(fd); } } ep_owner{ep};
        auto t0 = Clock::now();
        std::map<int, Job> running;            // job id -> child
        for (int id = 0; id < kJobs; ++id) start(ep, running[id], id);
        bool ok = true;
        while (!running.empty()) {
            epoll_event events[kJobs];
            int n = ::epoll_wait(ep, events, kJobs, timeout_ms(running));   // never sleeps late
            if (n < 0 && errno == EINTR) continue;
            check(n, "epoll_wait");            // n == 0: a deadline came first
            for (int i = 0; i < n; ++i) {
                int id = events[i].data.fd;  Job& job = running.at(id);
                // Later children hold a copy of this pidfd: close() alone leaves it in epoll.
                check(::epoll_ctl(ep, EPOLL_CTL_DEL, job.pidfd, nullptr), "epoll_ctl DEL");
                siginfo_t info{};
                check(::waitid(P_PIDFD, static_cast<id_t>(job.pidfd), &info, WEXITED), "waitid");
                job.pid = -1;                  // reaped
                std::cout << "job " << id << ": "
                          << (job.killed ? "timed out after 2000 ms, killed" : "finished in time") << '\n';
                // The hung job, and only it, was killed: by our SIGKILL.
                ok = ok && job.killed == (id == kHangingJob) && job.killed == (info.si_code == CLD_KILLED);
                running.erase(id);
            }
            enforce_deadlines(running);
        }
        auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
        std::cout << "all jobs done in " << ms << " ms, not the 30 s the hung job would take\n"
                  << (ok ? "the late job was killed at its deadline, the others untouched"
                         : "FAILED") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "supervisor_deadline: " << e.what() << '\n';
        return 1;
    }
}
