// coro_epoll.cpp — C++20 coroutines over epoll, with no library.
//
// The job of epoll_pipes.cpp and epoll_pidfds.cpp at once; each child is supervised by a
// coroutine that reads like blocking code: "wait until the pipe is readable,
// read, repeat; then wait until the pidfd is readable, reap". Underneath, one
// thread runs one epoll loop (Py: `async def` + `await` + asyncio's loop).
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "coro_loop.hpp"   // Loop, readable(), Task<T>, Fd, check

namespace {

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

// The story: one coroutine per child, written like blocking code.

// `child` is a reference: the caller must keep it alive until the Task is done
// (main's vector does; a temporary argument would dangle after the first suspend).
Task<int> supervise(Loop& loop, Child& child) {
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

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: coro_epoll\n"; return 2; }
    constexpr int kChildren = 4;
    try {
        Loop loop;                        // declared first: destroyed after the tasks
        std::vector<Child> children;
        children.reserve(kChildren);      // no reallocation: the references stay valid
        for (int id = 0; id < kChildren; ++id) children.push_back(spawn(id));

        std::vector<Task<int>> tasks;
        for (Child& c : children) tasks.push_back(supervise(loop, c));
        std::cout << "started " << kChildren << " coroutines; suspended on epoll: "
                  << loop.parked() << '\n';

        auto all_done = [&] { for (auto& t : tasks) if (!t.done()) return false; return true; };
        while (!all_done()) loop.run_once();

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
