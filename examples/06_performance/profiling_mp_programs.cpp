// profiling_mp_programs.cpp — where does the time of a multi-process program go?
// Three children do different kinds of "work"; their CPU time is read three
// ways: by the child itself (CLOCK_PROCESS_CPUTIME_ID), from outside while it
// lives (/proc/<pid>/stat), and by the parent when it reaps it (wait4 and
// getrusage(RUSAGE_CHILDREN)).
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
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <system_error>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
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
        if (errno != EINTR) check(-1, "nanosleep");
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

/// The children started so far; any not yet reaped (pid > 0) is killed and
/// reaped when the scope is left, say because a later fork() failed.
struct Children : std::vector<Child> {
    ~Children() {
        for (Child& c : *this) {
            if (c.pid > 0 && ::kill(c.pid, SIGKILL) == 0) ::waitpid(c.pid, nullptr, 0);
            if (c.report_fd >= 0) ::close(c.report_fd);
        }
    }
};

/// Child: run `work`, report its own CPU time, then stay alive until the
/// parent closes the hold pipe (so /proc/<pid> can still be read).
int child_body(void (*work)(double), double arg, int report, int hold) {
    work(arg);
    double self = own_cpu_ms();
    check(::write(report, &self, sizeof self), "write");
    char c;
    check(::read(hold, &c, 1), "read");  // EOF: the parent has looked at us
    return 0;
}

/// Fork a child running child_body(); the parent keeps the report pipe's read end.
void start(Children& kids, const char* name, void (*work)(double), double arg, const int hold[2]) {
    int p[2];
    check(::pipe(p), "pipe");
    kids.push_back(Child{name, -1, p[0], 0, 0, 0, {}});  // owned from here on
    std::fflush(stdout);  // unflushed output would be printed twice
    pid_t pid = ::fork();
    if (pid == -1) ::close(p[1]);
    kids.back().pid = static_cast<pid_t>(check(pid, "fork"));
    if (pid == 0) {  // the child ends here, whatever happens: never in main's code
        ::close(p[0]);
        ::close(hold[1]);  // else our own copy of the write end would keep us waiting forever
        int code = 1;
        try {
            code = child_body(work, arg, p[1], hold[0]);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "profiling_mp_programs child: %s\n", e.what());
        }
        ::_exit(code);
    }
    ::close(p[1]);
}

/// utime and stime (fields 14 and 15) of /proc/<pid>/stat, in milliseconds.
/// Field 2 (the command name) may contain spaces: parse after its last ')'.
void read_proc_stat(Child& c) {
    std::ifstream in("/proc/" + std::to_string(c.pid) + "/stat");
    std::string line;
    if (!std::getline(in, line)) throw std::runtime_error("cannot read /proc/<pid>/stat");
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 13; ++i) rest >> field;  // state .. cmajflt
    unsigned long utime = 0, stime = 0;
    if (!(rest >> utime >> stime)) throw std::runtime_error("cannot parse /proc/<pid>/stat");
    double tick_ms = 1000.0 / static_cast<double>(check(::sysconf(_SC_CLK_TCK), "sysconf"));
    c.proc_user_ms = static_cast<double>(utime) * tick_ms;
    c.proc_sys_ms = static_cast<double>(stime) * tick_ms;
}

}  // namespace

int run();

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {  // Children has killed and reaped the children
        std::fflush(stdout);
        std::fprintf(stderr, "profiling_mp_programs: %s\n", e.what());
        return 1;
    }
}

int run() {
    // ms of CPU (or of sleep) per child. The user/system split is sampled at
    // each clock tick (10 ms), so a run needs enough ticks to be meaningful.
    const double budget = 150;
    double tick_ms = 1000.0 / static_cast<double>(check(::sysconf(_SC_CLK_TCK), "sysconf"));

    rusage before{};
    check(::getrusage(RUSAGE_CHILDREN, &before), "getrusage");

    int hold[2];  // children block reading this until the parent closes it
    check(::pipe(hold), "pipe");
    Children kids;
    try {
        start(kids, "compute", compute, budget, hold);
        start(kids, "syscalls", make_syscalls, budget, hold);
        start(kids, "sleep", sleep_for, budget, hold);
    } catch (...) {
        ::close(hold[0]), ::close(hold[1]);  // the children started so far see end of file
        throw;
    }
    ::close(hold[0]);

    for (auto& c : kids) {  // each child is done working and still alive
        // The parent closed its copy of the write end: a dead child means end of file.
        if (check(::read(c.report_fd, &c.self_ms, sizeof c.self_ms), "read") != sizeof c.self_ms) {
            ::close(hold[1]);
            throw std::runtime_error(std::string(c.name) + " child did not report");
        }
        ::close(std::exchange(c.report_fd, -1));
        read_proc_stat(c);
    }
    ::close(hold[1]);  // let them all exit: each ends by itself now
    for (auto& c : kids) {
        int status = 0;
        check(::wait4(std::exchange(c.pid, -1), &status, 0, &c.usage), "wait4");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("a child failed");
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
