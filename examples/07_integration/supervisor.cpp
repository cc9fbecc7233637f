// supervisor.cpp — one thread runs 10 jobs in child processes, at most 3 at a
// time, with a deadline per job, and never blocks on any of them.
//
// Py: asyncio.Semaphore(3) + asyncio.wait_for(..., timeout) +
//     asyncio.gather(..., return_exceptions=True) over subprocesses.
// C++/Linux: one epoll set holding each child's result pipe and pidfd, plus a
// timerfd heartbeat that proves the loop stays responsive; a deadline is the
// epoll_wait timeout, and a late child is killed with pidfd_send_signal.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr std::size_t kMaxRunning = 3;          // Py: asyncio.Semaphore(3)
constexpr milliseconds kDeadline{2000};  // Py: asyncio.wait_for(timeout=2); jobs take 40-100 ms
constexpr int kHangingJob = 6, kCrashingJob = 8;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    int get() const { return fd_; }
private:
    int fd_;
};

// The job itself: the sum of k*k for k = 1..n, after a short "I/O" pause.
long long sum_of_squares(long long n) { return n * (n + 1) * (2 * n + 1) / 6; }

[[noreturn]] void run_job(int id, int out_fd) {
    if (id == kHangingJob) ::sleep(30);          // never answers: the deadline must fire
    if (id == kCrashingJob) {
        rlimit no_core{0, 0};
        ::setrlimit(RLIMIT_CORE, &no_core);       // crash quietly, leave no core file
        std::abort();
    }
    ::usleep(static_cast<useconds_t>(40'000 + (id % 3) * 30'000));
    long long sum = 0;
    for (long long k = 1; k <= 1000LL * (id + 1); ++k) sum += k * k;
    char text[32];
    int n = std::snprintf(text, sizeof text, "%lld\n", sum);
    ::_exit(::write(out_fd, text, static_cast<size_t>(n)) == n ? 0 : 1);
}

// ANCHOR: start
/// A job in flight. Destroying it (e.g. on an exception) kills and reaps it.
struct Running {
    int id = 0;
    pid_t pid = -1;
    Fd pidfd, out;
    std::string output;
    Clock::time_point deadline;
    bool out_open = true, reaped = false, killed = false;
    siginfo_t info{};
    ~Running() {  // SIGKILL cannot be caught: this wait is bounded
        if (pid > 0 && !reaped && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

using Table = std::map<int, std::unique_ptr<Running>>;   // job id -> child

enum Kind : std::uint64_t { Output = 0, Exit = 1, Heartbeat = 2 };
std::uint64_t tag(int id, Kind k) { return (static_cast<std::uint64_t>(id) << 2) | k; }

void watch(int ep, int fd, std::uint64_t data) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = data;
    check(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl");
}

std::unique_ptr<Running> start(int ep, int id) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end(fds[0]), write_end(fds[1]);
    auto job = std::make_unique<Running>();
    job->id = id;
    std::cout.flush();
    job->pid = check(::fork(), "fork");
    if (job->pid == 0) run_job(id, write_end.get());
    job->pidfd = Fd(check(static_cast<int>(::syscall(SYS_pidfd_open, job->pid, 0)), "pidfd_open"));
    job->out = std::move(read_end);
    job->deadline = Clock::now() + kDeadline;
    watch(ep, job->out.get(), tag(id, Output));
    watch(ep, job->pidfd.get(), tag(id, Exit));
    return job;
}
// ANCHOR_END: start

// How long epoll_wait may sleep: until the earliest deadline, or forever.
int wait_timeout_ms(const Table& running) {
    auto earliest = Clock::time_point::max();
    for (const auto& [id, job] : running)
        if (!job->killed && !job->reaped) earliest = std::min(earliest, job->deadline);
    if (earliest == Clock::time_point::max()) return -1;
    auto left = std::chrono::ceil<milliseconds>(earliest - Clock::now()).count();
    return static_cast<int>(std::max<long long>(left, 0));
}

// ANCHOR: events
void on_event(int ep, Running& job, Kind kind) {
    if (kind == Output) {
        char buf[64];
        ssize_t n = ::read(job.out.get(), buf, sizeof buf);
        check(static_cast<int>(n), "read");
        if (n > 0) { job.output.append(buf, static_cast<std::size_t>(n)); return; }
        check(::epoll_ctl(ep, EPOLL_CTL_DEL, job.out.get(), nullptr), "epoll_ctl DEL");
        job.out = Fd();
        job.out_open = false;
    } else {
        check(::waitid(P_PIDFD, static_cast<id_t>(job.pidfd.get()), &job.info, WEXITED), "waitid");
        job.reaped = true;
        check(::epoll_ctl(ep, EPOLL_CTL_DEL, job.pidfd.get(), nullptr), "epoll_ctl DEL");
        job.pidfd = Fd();
    }
}

// Past its deadline: SIGKILL through the pidfd. Unlike kill(pid), this can
// never hit an unrelated process that reused a reaped child's PID.
void enforce_deadlines(Table& running) {
    for (auto& [id, job] : running)
        if (!job->killed && !job->reaped && Clock::now() >= job->deadline) {
            check(static_cast<int>(::syscall(SYS_pidfd_send_signal, job->pidfd.get(), SIGKILL,
                                             nullptr, 0)), "pidfd_send_signal");
            job->killed = true;
        }
}
// ANCHOR_END: events

// Turn a finished job into one line of the report; true if it is what we expect.
bool report(const Running& job) {
    std::cout << "job " << job.id << ": ";
    if (job.killed) {
        std::cout << "timed out after " << kDeadline.count() << " ms, killed\n";
        return job.id == kHangingJob;
    }
    if (job.info.si_code != CLD_EXITED) {
        std::cout << "crashed: signal " << job.info.si_status << " ("
                  << ::strsignal(job.info.si_status) << ")\n";
        return job.id == kCrashingJob && job.info.si_status == SIGABRT;
    }
    long long got = std::atoll(job.output.c_str()), want = sum_of_squares(1000LL * (job.id + 1));
    std::cout << "ok, result " << got << (got == want ? " (correct)" : " (WRONG)") << '\n';
    return job.info.si_status == 0 && got == want;
}

// A job is done when its pipe is at EOF *and* it has been reaped.
void retire_finished(Table& running, std::vector<std::unique_ptr<Running>>& finished) {
    for (auto it = running.begin(); it != running.end();)
        if (it->second->reaped && !it->second->out_open) {
            finished.push_back(std::move(it->second));
            it = running.erase(it);
        } else {
            ++it;
        }
}

struct Summary {
    std::vector<std::unique_ptr<Running>> finished;
    std::size_t most_at_once = 0;
    int ticks = 0;
};

// ANCHOR: loop
// The whole supervisor: fill free slots, wait for the next event or deadline,
// handle what is ready, kill what is late, retire what is done. Repeat.
Summary supervise(int jobs) {
    Fd ep(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
    Fd heartbeat(check(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), "timerfd_create"));
    itimerspec every_20ms{{0, 20'000'000}, {0, 20'000'000}};
    check(::timerfd_settime(heartbeat.get(), 0, &every_20ms, nullptr), "timerfd_settime");
    watch(ep.get(), heartbeat.get(), Heartbeat);

    Table running;
    Summary summary;
    for (int next = 0; next < jobs || !running.empty();) {
        while (running.size() < kMaxRunning && next < jobs) {   // Py: async with semaphore
            running[next] = start(ep.get(), next);
            ++next;
        }
        summary.most_at_once = std::max(summary.most_at_once, running.size());

        epoll_event events[16];
        int n = ::epoll_wait(ep.get(), events, 16, wait_timeout_ms(running));
        if (n < 0 && errno == EINTR) continue;
        check(n, "epoll_wait");
        for (int i = 0; i < n; ++i) {
            auto kind = static_cast<Kind>(events[i].data.u64 & 3);
            if (kind == Heartbeat) {
                std::uint64_t expirations;
                check(static_cast<int>(::read(heartbeat.get(), &expirations, sizeof expirations)),
                      "read timerfd");
                ++summary.ticks;
            } else {
                on_event(ep.get(), *running.at(static_cast<int>(events[i].data.u64 >> 2)), kind);
            }
        }
        enforce_deadlines(running);
        retire_finished(running, summary.finished);
    }
    return summary;
}
// ANCHOR_END: loop

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: supervisor\n"; return 2; }
    constexpr int kJobs = 10;
    try {
        auto t0 = Clock::now();
        Summary summary = supervise(kJobs);
        auto elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();

        // Py: the list asyncio.gather(..., return_exceptions=True) returns, in job order.
        auto& done = summary.finished;
        std::sort(done.begin(), done.end(), [](auto& a, auto& b) { return a->id < b->id; });
        bool ok = done.size() == kJobs;
        for (const auto& job : done) ok = report(*job) && ok;

        std::cout << "most children running at once: " << summary.most_at_once
                  << " (limit " << kMaxRunning << ")\n";
        ok = ok && summary.most_at_once == kMaxRunning;
        std::cout << "heartbeat handled " << summary.ticks << " times in " << elapsed
                  << " ms: the loop never blocked on a child\n";
        std::cout << (ok ? "all 10 jobs accounted for: 8 results, 1 timeout, 1 crash"
                         : "FAILED: a job did not end as expected") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "supervisor: " << e.what() << '\n';
        return 1;
    }
}
