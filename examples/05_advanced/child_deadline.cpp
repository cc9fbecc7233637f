// child_deadline.cpp — a deadline that ends a hung child.
//
// Python: result.get(timeout=0.3) raises TimeoutError but leaves the task running.
// Here a pidfd becomes readable when the child exits, so poll() on it waits with a
// time-out; at the deadline the parent kills the child (pidfd_send_signal) and reaps it.
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <system_error>

namespace {

using namespace std::chrono;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct Fd { int fd; ~Fd() { if (fd >= 0) ::close(fd); } };   // owns one descriptor

// Via syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_kill(int pidfd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

/// Runs a child that works for `work`; waits at most `deadline`. True if it finished.
bool run_with_deadline(milliseconds work, milliseconds deadline) {
    std::fflush(stdout);
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) {   // the child: it only sleeps, and ends with _exit
        ::usleep(static_cast<useconds_t>(work.count() * 1000));
        _exit(0);
    }
    Fd pidfd{check(pidfd_open(child.pid), "pidfd_open")};
    pollfd p{pidfd.fd, POLLIN, 0};
    const auto give_up_at = steady_clock::now() + deadline;
    int ready;
    do {   // a signal may interrupt poll(): go on with the time that is left
        auto left = duration_cast<milliseconds>(give_up_at - steady_clock::now());
        ready = ::poll(&p, 1, static_cast<int>(std::max<milliseconds::rep>(0, left.count())));
    } while (ready == -1 && errno == EINTR);
    bool finished = check(ready, "poll") == 1;
    // A time-out that only stops waiting leaves the child running: end it.
    if (!finished) check(pidfd_kill(pidfd.fd, SIGKILL), "pidfd_send_signal");
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");   // it has exited, or SIGKILL ends it
    child.pid = -1;   // reaped: the pid may now belong to someone else
    return finished && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: child_deadline (takes no arguments)\n");
        return 2;
    }
    try {
        bool quick = run_with_deadline(50ms, 300ms);
        std::printf("works 50 ms, deadline 300 ms: %s\n", quick ? "finished" : "killed at the deadline");
        auto started = steady_clock::now();
        bool hung = run_with_deadline(10s, 300ms);
        auto waited = duration_cast<milliseconds>(steady_clock::now() - started).count();
        std::printf("works 10 s,  deadline 300 ms: %s\n", hung ? "finished" : "killed at the deadline");
        // Not a speed claim: without the kill we would wait 10 s; 5 s tells the two apart
        // on the busiest machine.
        bool ok = quick && !hung && waited < 5000;
        std::printf("%s\n", ok ? "ok: the hung child was killed and reaped at its deadline, not after 10 s"
                               : "FAIL: the deadline did not hold");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "child_deadline: %s\n", e.what());
        return 1;
    }
}
