// profiling_mp_programs.cpp — where does the time of a multi-process program go?
// Three children do different kinds of "work"; their CPU time is read three
// ways: by the child itself (CLOCK_PROCESS_CPUTIME_ID), from outside while it
// lives (/proc/<pid>/stat), and by the parent when it reaps it (wait4 and
// getrusage(RUSAGE_CHILDREN)).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

long check(long rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

double ms(const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; }

/// CPU time this process has used so far, in milliseconds.
double own_cpu_ms() {
    timespec ts{};
    check(::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), "clock_gettime");
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// ------------------------------------------------------- the three workloads
// The busy ones run until they have used `budget_ms` of CPU time (not wall
// time), so the numbers stay comparable on a busy machine.

void compute(double budget_ms) {  // user-mode arithmetic
    volatile double x = 1.0;
    while (own_cpu_ms() < budget_ms)
        for (int i = 0; i < 10000; ++i) x = std::sqrt(x + i);
}

void make_syscalls(double budget_ms) {  // reads from /dev/zero: the kernel fills our buffer
    int fd = static_cast<int>(check(::open("/dev/zero", O_RDONLY | O_CLOEXEC), "open /dev/zero"));
    static char buf[256 * 1024];  // big reads: the kernel's copy dwarfs the call overhead
    // The raw system call, not read(): sanitizers wrap read() and check the whole
    // buffer in user mode, which would turn this "kernel" profile into a mixed one.
    while (own_cpu_ms() < budget_ms)
        for (int i = 0; i < 4; ++i)
            check(::syscall(SYS_read, fd, buf, sizeof buf), "read");
    ::close(fd);
}

void sleep_for(double wall_ms) {  // waiting: no CPU at all
    timespec ts{0, static_cast<long>(wall_ms * 1e6)};
    while (::nanosleep(&ts, &ts) == -1)
        if (errno != EINTR) die("nanosleep");
}

// --------------------------------------------------------------- children

struct Child {
    const char* name;
    pid_t pid;
    int report_fd;     // child -> parent: its own CPU time when done
    double self_ms;    // what the child measured
    double proc_user_ms, proc_sys_ms;  // what /proc/<pid>/stat said
    rusage usage;      // what wait4 said
};

/// Fork a child that runs `work`, reports its own CPU time, then stays alive
/// until the parent closes the hold pipe (so /proc/<pid> can still be read).
Child start(const char* name, void (*work)(double), double arg, const int hold[2]) {
    int p[2];
    check(::pipe(p), "pipe");
    std::fflush(stdout);  // unflushed output would be printed twice
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) {
        ::close(p[0]);
        ::close(hold[1]);  // else our own copy of the write end would keep us waiting forever
        work(arg);
        double self = own_cpu_ms();
        check(::write(p[1], &self, sizeof self), "write");
        char c;
        check(::read(hold[0], &c, 1), "read");  // EOF: the parent has looked at us
        ::_exit(0);
    }
    ::close(p[1]);
    return Child{name, pid, p[0], 0, 0, 0, {}};
}

/// utime and stime (fields 14 and 15) of /proc/<pid>/stat, in milliseconds.
/// Field 2 (the command name) may contain spaces: parse after its last ')'.
void read_proc_stat(Child& c) {
    std::ifstream in("/proc/" + std::to_string(c.pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) die("read /proc/<pid>/stat");
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 13; ++i) rest >> field;  // state .. cmajflt
    unsigned long utime = 0, stime = 0;
    if (!(rest >> utime >> stime)) die("parse /proc/<pid>/stat");
    double tick_ms = 1000.0 / static_cast<double>(check(::sysconf(_SC_CLK_TCK), "sysconf"));
    c.proc_user_ms = static_cast<double>(utime) * tick_ms;
    c.proc_sys_ms = static_cast<double>(stime) * tick_ms;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    // ms of CPU (or of sleep) per child. The user/system split is sampled at
    // each clock tick (10 ms), so a run needs enough ticks to be meaningful.
    const double budget = 150;
    double tick_ms = 1000.0 / static_cast<double>(check(::sysconf(_SC_CLK_TCK), "sysconf"));

    rusage before{};
    check(::getrusage(RUSAGE_CHILDREN, &before), "getrusage");

    int hold[2];  // children block reading this until the parent closes it
    check(::pipe(hold), "pipe");
    std::vector<Child> kids;
    kids.push_back(start("compute", compute, budget, hold));
    kids.push_back(start("syscalls", make_syscalls, budget, hold));
    kids.push_back(start("sleep", sleep_for, budget, hold));
    ::close(hold[0]);

    for (auto& c : kids) {  // each child is done working and still alive
        if (check(::read(c.report_fd, &c.self_ms, sizeof c.self_ms), "read") != sizeof c.self_ms)
            die("child did not report");
        ::close(c.report_fd);
        read_proc_stat(c);
    }
    ::close(hold[1]);  // let them all exit
    for (auto& c : kids) {
        int status = 0;
        check(::wait4(c.pid, &status, 0, &c.usage), "wait4");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a child failed");
    }
    rusage after{};
    check(::getrusage(RUSAGE_CHILDREN, &after), "getrusage");

    std::printf("child     own clock   /proc/<pid>/stat (user+sys)   wait4 rusage (user + sys)\n");
    double sum_user = 0, sum_sys = 0;
    bool agree = true;
    for (auto& c : kids) {
        double u = ms(c.usage.ru_utime), s = ms(c.usage.ru_stime);
        sum_user += u, sum_sys += s;
        std::printf("%-8s %7.1f ms   %6.0f + %4.0f ms               %6.1f + %5.1f ms\n", c.name, c.self_ms,
                    c.proc_user_ms, c.proc_sys_ms, u, s);
        // /proc counts whole clock ticks: allow two ticks and 10 %.
        agree &= std::fabs(c.proc_user_ms + c.proc_sys_ms - c.self_ms) <= 2 * tick_ms + 0.1 * c.self_ms;
    }

    double grew_user = ms(after.ru_utime) - ms(before.ru_utime);
    double grew_sys = ms(after.ru_stime) - ms(before.ru_stime);
    bool exact = std::fabs(grew_user - sum_user) < 0.01 && std::fabs(grew_sys - sum_sys) < 0.01;
    std::printf("\ngetrusage(RUSAGE_CHILDREN) grew by %.1f + %.1f ms: %s\n", grew_user, grew_sys,
                exact ? "exactly the sum of the three wait4 results" : "NOT the sum of wait4 results");
    std::printf("/proc/<pid>/stat and the child's own clock agree within 2 ticks of %.0f ms: %s\n", tick_ms,
                agree ? "yes" : "NO");

    const Child &cpu = kids[0], &sys = kids[1], &idle = kids[2];
    auto user_share = [](const Child& c) {
        return 100 * ms(c.usage.ru_utime) / (ms(c.usage.ru_utime) + ms(c.usage.ru_stime));
    };
    auto total = [](const Child& c) { return ms(c.usage.ru_utime) + ms(c.usage.ru_stime); };
    bool shapes = user_share(cpu) >= 80 && user_share(sys) < 50 && total(idle) < 10;
    std::printf("compute : %3.0f %% of its CPU time in user mode (need >= 80 %%): the time goes to our code\n", user_share(cpu));
    std::printf("syscalls: %3.0f %% of its CPU time in the kernel (need > 50 %%): most of the time goes to system calls\n",
                100 - user_share(sys));
    std::printf("sleep   : %.1f ms of CPU for %.0f ms asleep (need < 10 ms): waiting costs no CPU time\n",
                total(idle), budget);
    if (!shapes) std::printf("the three profiles did NOT come out as expected\n");
    return exact && agree && shapes ? 0 : 1;
}
