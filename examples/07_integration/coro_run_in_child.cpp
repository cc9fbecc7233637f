// coro_run_in_child.cpp — `co_await` a function that runs in a child process.
//
// Py:  result = await loop.run_in_executor(ProcessPoolExecutor(), f, x)
// C++: result = co_await in_child(loop, [x] { return f(x); });
//
// The awaitable forks a child that computes the value and writes its bytes
// into a pipe, then suspends the coroutine on the child's pidfd. When the child
// has exited, the coroutine resumes, reads the value, reaps the child, and
// turns a crash into an exception — like a broken process pool in Python.
// Meanwhile a ticker coroutine keeps running on the same thread.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

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

// ANCHOR: loop
// The loop, the awaitable and the task type, as in coro_epoll.cpp.

struct Waiter {
    int fd;
    std::coroutine_handle<> handle;
};

class Loop {
public:
    Loop() : ep_(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")) {}
    void park(Waiter* w) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = w;
        check(::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, w->fd, &ev), "epoll_ctl ADD");
    }
    void run_once() {
        epoll_event events[16];
        int n = ::epoll_wait(ep_.get(), events, 16, -1);
        if (n < 0 && errno == EINTR) return;
        check(n, "epoll_wait");
        for (int i = 0; i < n; ++i) {
            auto* w = static_cast<Waiter*>(events[i].data.ptr);
            check(::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, w->fd, nullptr), "epoll_ctl DEL");
            w->handle.resume();
        }
    }
private:
    Fd ep_;
};

struct Readable {
    Loop& loop;
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { waiter.handle = h; loop.park(&waiter); }
    void await_resume() const noexcept {}
};

// ANCHOR_END: loop

class Task {
public:
    struct promise_type {
        long long value = 0;
        std::exception_ptr error;
        Task get_return_object() { return Task(Handle::from_promise(*this)); }
        std::suspend_never initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }
        void return_value(long long v) { value = v; }
        void unhandled_exception() { error = std::current_exception(); }
    };
    using Handle = std::coroutine_handle<promise_type>;
    Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    ~Task() { if (h_) h_.destroy(); }
    bool done() const { return h_.done(); }
    long long result() const {           // rethrows what the coroutine threw
        if (h_.promise().error) std::rethrow_exception(h_.promise().error);
        return h_.promise().value;
    }
private:
    explicit Task(Handle h) : h_(h) {}
    Handle h_;
};

// ANCHOR: bridge

/// `co_await InChild<T>{...}` suspends until the child has exited, then yields
/// its T. The result travels as raw bytes, so T must be trivially copyable
/// (Python pickles instead; for richer types, serialize).
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
        if (pid_ == 0) {   // the child: nothing may unwind out of here
            int code = 1;
            try {          // into the parent's coroutine and event loop (shared epoll fd)
                T value = fn();
                // sizeof(T) <= PIPE_BUF: the write completes without a reader.
                code = ::write(write_end.get(), &value, sizeof value) == sizeof value ? 0 : 1;
            } catch (...) {
                code = 3;  // the parent reports "exited without a result"
            }
            ::_exit(code);
        }
        result_ = std::move(read_end);
        int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd < 0) { int e = errno; ::kill(pid_, SIGKILL); reap(); errno = e; check(-1, "pidfd_open"); }
        pidfd_ = Fd(pidfd);
    }
    InChild(const InChild&) = delete;
    InChild& operator=(const InChild&) = delete;
    ~InChild() { if (pid_ > 0) { ::kill(pid_, SIGKILL); reap(); } }   // coroutine destroyed early

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) {
        waiter_ = Waiter{pidfd_.get(), h};
        loop_.park(&waiter_);            // readable pidfd = the child has exited
    }
    T await_resume() {
        siginfo_t info = reap();
        if (info.si_code != CLD_EXITED)
            throw std::runtime_error(std::string("child killed by signal ") +
                                     std::to_string(info.si_status) + " (" +
                                     ::strsignal(info.si_status) + ")");
        T value;
        if (info.si_status != 0 || ::read(result_.get(), &value, sizeof value) != sizeof value)
            throw std::runtime_error("child exited without a result");
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
// ANCHOR_END: bridge


long long count_primes_below(long long n) {
    long long count = 0;
    for (long long k = 2; k < n; ++k) {
        bool prime = true;
        for (long long d = 2; d * d <= k && prime; ++d) prime = k % d != 0;
        count += prime;
    }
    return count;
}

// ANCHOR: story
// Reads like synchronous code; the heavy part runs in another process.
Task count_in_child(Loop& loop, long long n) {
    long long primes = co_await InChild<long long>(loop, [n] {
        if (n < 0) {                                   // a job that crashes, on purpose
            rlimit no_core{0, 0};
            ::setrlimit(RLIMIT_CORE, &no_core);
            std::abort();
        }
        return count_primes_below(n);
    });
    co_return primes;
}

// Proves the loop is free while the children compute: it keeps ticking.
Task ticker(Loop& loop, const std::vector<Task>& jobs) {
    Fd timer(check(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), "timerfd_create"));
    itimerspec every_5ms{{0, 5'000'000}, {0, 5'000'000}};
    check(::timerfd_settime(timer.get(), 0, &every_5ms, nullptr), "timerfd_settime");
    long long busy_ticks = 0;              // ticks while some child was still computing
    for (;;) {
        co_await Readable{loop, Waiter{timer.get(), {}}};
        std::uint64_t expirations;
        check(static_cast<int>(::read(timer.get(), &expirations, sizeof expirations)), "read timerfd");
        bool all_done = true;
        for (const Task& t : jobs) all_done = all_done && t.done();
        if (all_done) co_return busy_ticks;
        ++busy_ticks;
    }
}
// ANCHOR_END: story

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: coro_run_in_child\n"; return 2; }
    const long long inputs[] = {100'000, 200'000, -1, 300'000};
    const long long expected[] = {9'592, 17'984, 0, 25'997};      // pi(n), known values
    try {
        // ANCHOR: main
        Loop loop;
        std::vector<Task> jobs;
        jobs.reserve(4);
        for (long long n : inputs) jobs.push_back(count_in_child(loop, n));   // Py: gather(...)
        Task tick = ticker(loop, jobs);
        std::cout << "4 coroutines each awaiting a child, plus 1 ticker, on one thread\n";

        while (!tick.done()) loop.run_once();

        bool ok = true;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            try {
                long long got = jobs[i].result();
                std::cout << "primes below " << inputs[i] << " = " << got
                          << (got == expected[i] ? " (correct)" : " (WRONG)") << '\n';
                ok = ok && got == expected[i];
            } catch (const std::system_error&) {
                throw;                                  // a failed call: main reports it
            } catch (const std::runtime_error& e) {   // what a job's child did
                std::cout << "job " << i << " raised: " << e.what() << '\n';
                ok = ok && inputs[i] < 0;               // only the crashing job may throw
            }
        }
        // ANCHOR_END: main
        // If awaiting a child blocked the thread, the ticker could not run before
        // every job was done, and this count would be 0.
        long long ticks = tick.result();
        std::cout << "ticker ran " << ticks << " times while the children computed\n";
        std::cout << (ok && ticks > 0 ? "results awaited like local calls; the crash became an exception"
                                      : "FAILED") << '\n';
        return ok && ticks > 0 ? 0 : 1;
    } catch (const std::exception& e) {   // a failed call (a std::system_error)
        std::cout.flush();
        std::cerr << "coro_run_in_child: " << e.what() << '\n';
        return 1;
    }
}
