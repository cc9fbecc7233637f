// coro_loop.hpp — the epoll loop, the awaitable and the task type that
// coro_epoll.cpp and coro_run_in_child.cpp share.
#pragma once
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <exception>
#include <system_error>
#include <utility>

// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
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
/// What a suspended coroutine waits for: one fd becoming readable.
struct Waiter {
    int fd;
    std::coroutine_handle<> handle;
};

/// One epoll set. A coroutine parks a Waiter here; run_once() resumes it.
class Loop {
public:
    Loop() : ep_(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")) {}
    void park(Waiter* w) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = w;                  // epoll gives this pointer back to us
        check(::epoll_ctl(ep_.get(), EPOLL_CTL_ADD, w->fd, &ev), "epoll_ctl ADD");
        ++parked_;
    }
    void run_once() {
        epoll_event events[16];
        int n = ::epoll_wait(ep_.get(), events, 16, -1);
        if (n < 0 && errno == EINTR) return;
        check(n, "epoll_wait");
        for (int i = 0; i < n; ++i) {
            auto* w = static_cast<Waiter*>(events[i].data.ptr);
            // One-shot: forget the fd before resuming, the coroutine may close it.
            check(::epoll_ctl(ep_.get(), EPOLL_CTL_DEL, w->fd, nullptr), "epoll_ctl DEL");
            --parked_;
            ++resumes_;
            w->handle.resume();
        }
    }
    int parked() const { return parked_; }
    int resumes() const { return resumes_; }
private:
    Fd ep_;
    int parked_ = 0, resumes_ = 0;
};

/// `co_await readable(loop, fd)` — suspend until fd has data (or EOF).
struct Readable {
    Loop& loop;
    Waiter waiter;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { waiter.handle = h; loop.park(&waiter); }
    void await_resume() const noexcept {}
};
inline Readable readable(Loop& loop, int fd) { return Readable{loop, Waiter{fd, {}}}; }
// ANCHOR_END: loop

// ANCHOR: task
/// The coroutine type: owns its frame, keeps its result or its exception.
template <class T>
class Task {
public:
    struct promise_type {
        T value{};
        std::exception_ptr error;
        Task get_return_object() { return Task(Handle::from_promise(*this)); }
        std::suspend_never initial_suspend() noexcept { return {}; }   // run to the first co_await
        std::suspend_always final_suspend() noexcept { return {}; }    // keep the result for us
        void return_value(T v) { value = std::move(v); }
        void unhandled_exception() { error = std::current_exception(); }
    };
    using Handle = std::coroutine_handle<promise_type>;
    Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    ~Task() { if (h_) h_.destroy(); }     // RAII: a frame is never leaked
    bool done() const { return h_.done(); }
    T result() const {                    // rethrows what the coroutine threw
        if (h_.promise().error) std::rethrow_exception(h_.promise().error);
        return h_.promise().value;
    }
private:
    explicit Task(Handle h) : h_(h) {}
    Handle h_;
};
// ANCHOR_END: task
