// retry_backoff.cpp — retries with exponential back-off, an attempt limit and a deadline.
//
// Python leaves retries to you (or to a package such as tenacity). Each attempt runs in
// a fresh child with its own deadline (a pidfd and poll, as in child_deadline); after a
// failure we wait 10 ms, 20, 40 ... and stop at the attempt limit or the overall budget.
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <system_error>
#include <thread>

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

/// One attempt in a child: its exit code is the result. Describes how it ended.
std::string attempt(int (*task)(int) noexcept, int n, milliseconds deadline) {
    std::fflush(stdout);
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) _exit(task(n));   // noexcept: nothing can unwind into main's code
    Fd pidfd{check(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)), "pidfd_open")};
    pollfd p{pidfd.fd, POLLIN, 0};
    int ready;
    while ((ready = ::poll(&p, 1, static_cast<int>(deadline.count()))) == -1 && errno == EINTR) {}
    if (check(ready, "poll") == 0)   // deadline: end it (the Child owner reaps it)
        return "deadline exceeded, killed with SIGKILL";
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");
    child.pid = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "ok";
    return WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status)) : "killed by a signal";
}

/// Retries `task` until it succeeds, `max_attempts` are spent or `budget` is.
bool retry(const char* label, int (*task)(int) noexcept, int max_attempts, milliseconds per_attempt,
           milliseconds budget) {
    const auto give_up_at = steady_clock::now() + budget;
    milliseconds backoff = 10ms;
    for (int n = 1;; ++n) {
        // Each attempt's deadline is cut to what is left: the loop never overruns its budget.
        auto left = duration_cast<milliseconds>(give_up_at - steady_clock::now());
        std::string how = attempt(task, n, std::clamp(left, 1ms, per_attempt));
        std::printf("  %s attempt %d: %s\n", label, n, how.c_str());
        if (how == "ok") return true;
        if (n == max_attempts) {
            std::printf("  %s: giving up after %d attempts\n", label, n);
            return false;
        }
        if (steady_clock::now() + backoff >= give_up_at) {
            std::printf("  %s: giving up, the overall deadline of %lld ms is reached\n", label,
                        static_cast<long long>(budget.count()));
            return false;
        }
        std::printf("  %s: retrying in %lld ms\n", label, static_cast<long long>(backoff.count()));
        std::this_thread::sleep_for(backoff);
        backoff *= 2;   // production code also adds random jitter here
    }
}

int flaky(int n) noexcept { return n < 3 ? 75 : 0; }  // fails twice (EX_TEMPFAIL), then works
int broken(int) noexcept { return 3; }        // fails the same way every time
int stuck(int) noexcept { ::sleep(10); return 0; }  // hangs past any deadline

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: retry_backoff (takes no arguments)\n");
        return 2;
    }
    try {
        bool r1 = retry("flaky", flaky, 5, 300ms, 2000ms);
        std::printf("%s: a transient failure is retried until it succeeds\n", r1 ? "ok" : "FAIL");
        bool r2 = retry("broken", broken, 4, 300ms, 2000ms);
        std::printf("%s: a permanent failure stops at the attempt limit\n", !r2 ? "ok" : "FAIL");
        bool r3 = retry("stuck", stuck, 10, 100ms, 250ms);
        std::printf("%s: an always-hanging task stops at the overall deadline\n", !r3 ? "ok" : "FAIL");
        return r1 && !r2 && !r3 ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "retry_backoff: %s\n", e.what());
        return 1;
    }
}
