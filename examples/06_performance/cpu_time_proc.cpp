// cpu_time_proc.cpp — reading a running child's CPU time from outside, as ps, top
// and psutil do: fields 14 and 15 (utime, stime) of /proc/<pid>/stat, in clock
// ticks. The child measures itself with CLOCK_PROCESS_CPUTIME_ID; the two views
// agree to within the tick.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owners: they close the descriptor, kill and reap the child, if we leave early.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

double own_cpu_ms() {  // Py: time.process_time(), in ms
    timespec ts{};
    check(::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), "clock_gettime");
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

/// The child: compute until it has used `budget` ms of CPU, send its own clock,
/// then block until the parent closes its end, so that /proc/<pid> stays readable.
int child_body(int sock, double budget) {
    volatile double x = 1.0;
    while (own_cpu_ms() < budget)
        for (int i = 0; i < 10000; ++i) x = std::sqrt(x + i);
    double self = own_cpu_ms();
    check(::write(sock, &self, sizeof self), "write");
    char c;
    check(::read(sock, &c, 1), "read");  // end of file: the parent has looked at us
    return 0;
}

/// utime and stime, fields 14 and 15 of /proc/<pid>/stat. Field 2, the command
/// name in parentheses, may contain spaces: count fields after its last ')'.
std::pair<long, long> proc_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line, field;
    if (!std::getline(in, line)) throw std::runtime_error("cannot read /proc/<pid>/stat");
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    for (int i = 3; i <= 13; ++i) rest >> field;  // state .. cmajflt
    long utime = 0, stime = 0;
    if (!(rest >> utime >> stime)) throw std::runtime_error("cannot parse /proc/<pid>/stat");
    return {utime, stime};
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        const double budget = 150;  // ms of CPU: 15 ticks of 10 ms
        int sv[2];  // one socket pair: the child's report one way, end of file the other
        check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        Fd mine(sv[0]), theirs(sv[1]);
        std::fflush(stdout);  // unflushed output would be printed twice
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {  // the child ends here, whatever happens: never in main's code
            ::close(mine.fd);  // else our own copy would keep us from seeing end of file
            int code = 1;
            try {
                code = child_body(theirs.fd, budget);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "cpu_time_proc child: %s\n", e.what());
            }
            ::_exit(code);
        }
        ::close(std::exchange(theirs.fd, -1));  // now a dead child means end of file
        double self = 0;
        if (check(::read(mine.fd, &self, sizeof self), "read") != sizeof self)
            throw std::runtime_error("the child died before it reported");
        auto [utime, stime] = proc_ticks(child.pid);  // alive: blocked in read()
        ::close(std::exchange(mine.fd, -1));  // let it go: it ends by itself now
        int status = 0;
        check(::waitpid(std::exchange(child.pid, -1), &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("the child failed");

        const double tick = 1000.0 / static_cast<double>(check(::sysconf(_SC_CLK_TCK), "sysconf"));
        const double outside = static_cast<double>(utime + stime) * tick;
        std::printf("the child's own clock (CLOCK_PROCESS_CPUTIME_ID): %.1f ms\n", self);
        std::printf("its /proc/<pid>/stat, read by the parent: %ld + %ld ticks of %.0f ms = %.0f ms (user + system)\n",
                    utime, stime, tick, outside);
        bool agree = std::fabs(outside - self) <= 2 * tick + 0.1 * self;  // whole ticks: allow 2, and 10 %
        std::printf("they agree within 2 ticks and 10 %%: %s\n", agree ? "yes" : "NO");
        bool user = utime > stime;  // /proc also says where the time went
        std::printf("it computes, so most of its ticks are user time: %s\n", user ? "yes" : "NO");
        return agree && user ? 0 : 1;
    } catch (const std::exception& e) {  // the owners have closed, killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "cpu_time_proc: %s\n", e.what());
        return 1;
    }
}
