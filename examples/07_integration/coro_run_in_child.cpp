// coro_run_in_child.cpp — `co_await` a function that runs in a child process.
//
// Py:  result = await loop.run_in_executor(ProcessPoolExecutor(), f, x)
// C++: result = co_await InChild<T>(loop, [x] { return f(x); });
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "coro_loop.hpp"

namespace {

struct ChildFailed : std::runtime_error { using std::runtime_error::runtime_error; };

/// `co_await InChild<T>(loop, fn)` suspends until the child has exited, then
/// yields its T. The result travels as raw bytes: T must be trivially copyable.
template <class T>
class InChild {
    static_assert(std::is_trivially_copyable_v<T>);
public:
    template <class F>
    InChild(Loop& loop, F fn) : loop_(loop) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        Fd read_end(fds[0]), write_end(fds[1]);
        std::cout.flush();
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {   // the child: nothing may unwind into the parent's coroutine
            int code = 3;  // 3: fn() threw; the parent reports "exited without a result"
            try {          // sizeof(T) <= PIPE_BUF: the write completes without a reader
                T value = fn();
                code = ::write(write_end.get(), &value, sizeof value) == sizeof value ? 0 : 1;
            } catch (...) {}
            ::_exit(code);
        }
        result_ = std::move(read_end);
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd < 0) { int e = errno; ::kill(pid_, SIGKILL); reap(); errno = e; check(-1, "pidfd_open"); }
        pidfd_ = Fd(pidfd);
    }
    ~InChild() { if (pid_ > 0) { ::kill(pid_, SIGKILL); reap(); } }   // coroutine destroyed early

    bool await_ready() const noexcept { return false; }
    // Park on the pidfd: it turns readable when the child has exited.
    void await_suspend(std::coroutine_handle<> h) { waiter_ = {pidfd_.get(), h}; loop_.park(&waiter_); }
    T await_resume() {
        siginfo_t info = reap();
        if (info.si_code != CLD_EXITED)
            throw ChildFailed("child killed by signal " + std::to_string(info.si_status) +
                                     " (" + ::strsignal(info.si_status) + ")");
        T value;
        if (info.si_status != 0 || ::read(result_.get(), &value, sizeof value) != sizeof value)
            throw ChildFailed("child exited without a result");
        return value;
    }
private:
    siginfo_t reap() {
        siginfo_t info{};
        check(::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED), "waitid");
        pid_ = -1;
        return info;
    }
    Loop& loop_;
    pid_t pid_ = -1;
    Fd result_, pidfd_;
    Waiter waiter_{};
};

// Reads like a local call; the work runs in another process.
Task<long long> sum_in_child(Loop& loop, long long n) {
    co_return co_await InChild<long long>(loop, [n] {
        if (n < 0) ::raise(SIGKILL);                   // a job that crashes, on purpose
        long long sum = 0;                             // CPU work with a known answer
        for (long long k = 1; k <= n; ++k) sum += k * k;
        return sum;
    });
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: coro_run_in_child\n"; return 2; }
    const long long inputs[] = {1'000, 2'000, -1, 3'000};
    try {
        Loop loop;                                     // declared first: outlives the tasks
        std::vector<Task<long long>> jobs;
        for (long long n : inputs) jobs.push_back(sum_in_child(loop, n));   // Py: gather(...)
        // Had the await blocked (a waitpid in await_suspend), each call above
        // would have returned only when its child was done, and none would be parked.
        std::cout << "4 coroutines started; suspended on a child's pidfd: " << loop.parked() << '\n';
        bool ok = loop.parked() == 4;
        for (auto& job : jobs) while (!job.done()) loop.run_once();

        for (std::size_t i = 0; i < jobs.size(); ++i) {
            try {
                long long got = jobs[i].result(), n = inputs[i];
                bool right = got == n * (n + 1) * (2 * n + 1) / 6;   // the closed formula
                std::cout << "sum of squares to " << n << " = " << got
                          << (right ? " (correct)" : " (WRONG)") << '\n';
                ok = ok && right;
            } catch (const ChildFailed& e) {   // what a job's child did (a failed call: main)
                std::cout << "job " << i << " raised: " << e.what() << '\n';
                ok = ok && inputs[i] < 0;               // only the crashing job may throw
            }
        }
        std::cout << (ok ? "results awaited like local calls; the crash became an exception"
                         : "FAILED") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {   // a failed call (a std::system_error)
        std::cout.flush();
        std::cerr << "coro_run_in_child: " << e.what() << '\n';
        return 1;
    }
}
