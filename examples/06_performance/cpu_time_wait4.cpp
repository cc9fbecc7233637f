// cpu_time_wait4.cpp — what a parent learns when it reaps a child: wait4() returns
// its CPU time, split into user (our code) and system (the kernel working for us),
// which tells three kinds of work apart. getrusage(RUSAGE_CHILDREN) is the same
// accounting summed over the children reaped so far; an unreaped one is not in it.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

double own_cpu_ms() {  // Py: time.process_time(), in ms
    timespec ts{};
    check(::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), "clock_gettime");
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// The busy workloads run until they have used `budget` ms of CPU time (not wall
// time), so the figures stay comparable on a busy machine.
void compute(double budget) {  // user-mode arithmetic
    volatile double x = 1.0;
    while (own_cpu_ms() < budget)
        for (int i = 0; i < 10000; ++i) x = std::sqrt(x + i);
}
void make_syscalls(double budget) {  // reads from /dev/zero: the kernel fills our buffer
    int fd = static_cast<int>(check(::open("/dev/zero", O_RDONLY | O_CLOEXEC), "open /dev/zero"));
    static char buf[256 * 1024];  // big reads: the kernel's copy dwarfs the call overhead
    // syscall(), not read(): sanitizers wrap read() and check the buffer in user mode.
    while (own_cpu_ms() < budget)  // (the clock is a system call too: read 4 times per look)
        for (int i = 0; i < 4; ++i) check(::syscall(SYS_read, fd, buf, sizeof buf), "read");
}
void sleep_for(double wall_ms) { check(::usleep(static_cast<useconds_t>(wall_ms * 1e3)), "usleep"); }  // no CPU

// Owner: kills and reaps the child if we leave early (a later fork() failed).
struct Child {
    Child() = default;
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

double ms(const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; }

double children_ms() {  // user + system time of every child reaped so far
    rusage ru{};
    check(::getrusage(RUSAGE_CHILDREN, &ru), "getrusage");
    return ms(ru.ru_utime) + ms(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        const double budget = 150;  // ms: user/system is sampled per 10 ms tick, so 15 ticks
        void (*work[3])(double) = {compute, make_syscalls, sleep_for};
        const double before = children_ms();
        Child kids[3];
        for (int i = 0; i < 3; ++i) {
            std::fflush(stdout);  // unflushed output would be printed twice
            kids[i].pid = static_cast<pid_t>(check(::fork(), "fork"));
            if (kids[i].pid == 0) {  // the child ends here, whatever happens: never in main's code
                int code = 1;
                try {
                    work[i](budget);
                    code = 0;
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "cpu_time_wait4 child: %s\n", e.what());
                }
                ::_exit(code);
            }
        }
        for (Child& k : kids) {  // wait until each has exited, without reaping it (WNOWAIT)
            siginfo_t info{};
            check(::waitid(P_PID, static_cast<id_t>(k.pid), &info, WEXITED | WNOWAIT), "waitid");
        }
        const double unreaped = children_ms() - before;  // three zombies: nothing yet
        double user[3], sys[3], sum = 0;
        bool ok = true;
        for (int i = 0; i < 3; ++i) {  // reap each, with its resource usage
            int status = 0;
            rusage ru{};
            check(::wait4(std::exchange(kids[i].pid, -1), &status, 0, &ru), "wait4");
            ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
            user[i] = ms(ru.ru_utime), sys[i] = ms(ru.ru_stime), sum += user[i] + sys[i];
        }
        const double reaped = children_ms() - before;
        double user_share = 100 * user[0] / (user[0] + sys[0]), sys_share = 100 * sys[1] / (user[1] + sys[1]);
        std::printf("wait4    user + system\n");
        std::printf("compute  %6.1f + %5.1f ms: %3.0f %% in user mode (need >= 80 %%): the time goes to our code\n",
                    user[0], sys[0], user_share);
        std::printf("syscalls %6.1f + %5.1f ms: %3.0f %% in the kernel (need > 50 %%): it goes to system calls\n",
                    user[1], sys[1], sys_share);
        std::printf("sleep    %6.1f + %5.1f ms in %.0f ms asleep (need < 10 ms): waiting costs no CPU time\n",
                    user[2], sys[2], budget);
        ok &= user_share >= 80 && sys_share > 50 && user[2] + sys[2] < 10;

        std::printf("\nall three exited, none reaped: getrusage(RUSAGE_CHILDREN) grew by %.1f ms\n", unreaped);
        std::printf("all three reaped: it grew by %.1f ms, %s\n", reaped,
                    std::fabs(reaped - sum) < 0.01 ? "exactly the sum of the three wait4 results" : "NOT their sum");
        ok &= unreaped == 0 && std::fabs(reaped - sum) < 0.01;
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // the Child owners have killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "cpu_time_wait4: %s\n", e.what());
        return 1;
    }
}
