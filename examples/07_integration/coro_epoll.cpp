// coro_epoll.cpp — C++20 coroutines over epoll, with no library.
//
// The same job as epoll_children.cpp, but each child is supervised by a
// coroutine that reads like blocking code: "wait until the pipe is readable,
// read, repeat; then wait until the pidfd is readable, reap". Underneath, one
// thread runs one epoll loop (Py: `async def` + `await` + asyncio's loop).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <coroutine>
#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>
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
Readable readable(Loop& loop, int fd) { return Readable{loop, Waiter{fd, {}}}; }
// ANCHOR_END: loop

// ANCHOR: task
// The coroutine type: owns its frame, keeps its result.

class Task {
public:
    struct promise_type {
        int value = -1;
        std::exception_ptr error;
        Task get_return_object() { return Task(Handle::from_promise(*this)); }
        std::suspend_never initial_suspend() noexcept { return {}; }   // run to the first co_await
        std::suspend_always final_suspend() noexcept { return {}; }    // keep the result for us
        void return_value(int v) { value = v; }
        void unhandled_exception() { error = std::current_exception(); }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
    ~Task() { if (h_) h_.destroy(); }     // RAII: a frame is never leaked
    bool done() const { return h_.done(); }
    int result() const {
        if (h_.promise().error) std::rethrow_exception(h_.promise().error);
        return h_.promise().value;
    }

private:
    explicit Task(Handle h) : h_(h) {}
    Handle h_;
};

// ANCHOR_END: task

// ANCHOR: children

struct Child {
    int id;
    pid_t pid;
    Fd pidfd, out;
    bool reaped = false;
    Child(int i, pid_t p, Fd pfd, Fd o) : id(i), pid(p), pidfd(std::move(pfd)), out(std::move(o)) {}
    Child(Child&& o) noexcept
        : id(o.id), pid(std::exchange(o.pid, -1)), pidfd(std::move(o.pidfd)),
          out(std::move(o.out)), reaped(o.reaped) {}
    ~Child() {  // SIGKILL cannot be caught: this wait is bounded
        if (pid > 0 && !reaped && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

[[noreturn]] void child_main(int id, int fd) {
    for (int line = 1; line <= 2; ++line) {
        ::usleep(static_cast<useconds_t>(20'000 + id * 10'000));
        char text[64];
        int n = std::snprintf(text, sizeof text, "child %d line %d\n", id, line);
        if (::write(fd, text, static_cast<size_t>(n)) != n) ::_exit(100);
    }
    ::_exit(id * 7);                      // an exit code the parent can verify
}

Child spawn(int id) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end(fds[0]), write_end(fds[1]);
    std::cout.flush();
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) child_main(id, write_end.get());
    Child child(id, pid, Fd(), std::move(read_end));   // owns the child from here on
    child.pidfd = Fd(check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), "pidfd_open"));
    return child;
}
// ANCHOR_END: children

// ANCHOR: supervise
// The story: one coroutine per child, written like blocking code.

// `child` is a reference: the caller must keep it alive until the Task is done
// (main's vector does; a temporary argument would dangle after the first suspend).
Task supervise(Loop& loop, Child& child) {
    std::string text;
    for (;;) {
        co_await readable(loop, child.out.get());
        char buf[256];
        ssize_t n = ::read(child.out.get(), buf, sizeof buf);
        check(static_cast<int>(n), "read");
        if (n == 0) break;                                    // EOF: the child closed its end
        text.append(buf, static_cast<std::size_t>(n));
        for (std::size_t nl; (nl = text.find('\n')) != std::string::npos; text.erase(0, nl + 1))
            std::cout << "coroutine " << child.id << " read: " << text.substr(0, nl) << '\n';
    }
    co_await readable(loop, child.pidfd.get());               // readable = exited
    siginfo_t info{};
    check(::waitid(P_PIDFD, static_cast<id_t>(child.pidfd.get()), &info, WEXITED), "waitid");
    child.reaped = true;
    co_return info.si_code == CLD_EXITED ? info.si_status : -1;
}
// ANCHOR_END: supervise

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: coro_epoll\n"; return 2; }
    constexpr int kChildren = 4;
    try {
        // ANCHOR: main
        Loop loop;                        // declared first: destroyed after the tasks
        std::vector<Child> children;
        children.reserve(kChildren);      // no reallocation: the references stay valid
        for (int id = 0; id < kChildren; ++id) children.push_back(spawn(id));

        std::vector<Task> tasks;
        for (Child& c : children) tasks.push_back(supervise(loop, c));
        std::cout << "started " << kChildren << " coroutines; suspended on epoll: "
                  << loop.parked() << '\n';

        auto all_done = [&] { for (auto& t : tasks) if (!t.done()) return false; return true; };
        while (!all_done()) loop.run_once();
        // ANCHOR_END: main

        bool ok = true;
        for (int id = 0; id < kChildren; ++id) {
            int code = tasks[static_cast<std::size_t>(id)].result();
            std::cout << "coroutine " << id << " returned exit code " << code
                      << " (expected " << id * 7 << ")\n";
            ok = ok && code == id * 7;
        }
        std::cout << "still parked on epoll: " << loop.parked() << " (expected 0)\n";
        ok = ok && loop.parked() == 0;
        std::cout << "one thread resumed coroutines " << loop.resumes() << " times; "
                  << (ok ? "every child was read to EOF and reaped" : "FAILED") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "coro_epoll: " << e.what() << '\n';
        return 1;
    }
}
