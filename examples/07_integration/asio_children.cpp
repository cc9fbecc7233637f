// asio_children.cpp — Boost.Asio reads the output of several children.
//
// Asio's io_context is a ready-made event loop (epoll underneath on Linux).
// posix::stream_descriptor turns any fd into an async stream: we wrap each
// child's pipe (async_read_until '\n') and each child's pidfd (async_wait
// for "readable" = exited). One thread calls io_context::run() and every
// handler runs there (Py: asyncio.create_subprocess_exec + StreamReader).
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>; g++ 12 in C++20 mode then fails. Including it first fixes that.
#include <utility>
#include <boost/asio.hpp>

#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

namespace asio = boost::asio;

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

[[noreturn]] void child_main(int id, int fd) {
    for (int line = 1; line <= 3; ++line) {
        ::usleep(static_cast<useconds_t>(10'000 + id * 12'000));
        char text[64];
        int n = std::snprintf(text, sizeof text, "child %d says %d\n", id, line * line);
        if (::write(fd, text, static_cast<size_t>(n)) != n) ::_exit(100);
    }
    ::_exit(40 + id);
}

// ANCHOR: owner
/// Kills and reaps a child we never waited for (SIGKILL cannot be caught: bounded).
struct Child {
    pid_t pid = -1;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
};

/// One child as Asio sees it: two stream_descriptors that close their fds when
/// destroyed, and the Child member that owns the process.
class AsyncChild : public std::enable_shared_from_this<AsyncChild> {
public:
    AsyncChild(asio::io_context& io, int id) : id_(id), out_(io), exit_(io) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        out_.assign(fds[0]);                         // Asio owns the read end now
        std::cout.flush();
        child_.pid = ::fork();
        if (child_.pid == 0) child_main(id, fds[1]);
#ifndef BREAK_KEEP_WRITE_END  // "Break it" on the page: build with -DBREAK_KEEP_WRITE_END
        ::close(fds[1]);                             // our copy: EOF needs every writer gone
#else
        std::cout << std::unitbuf; ::alarm(3);       // kept open: print at once; SIGALRM ends the hang
#endif
        check(child_.pid, "fork");
        // If this throws, no ~AsyncChild runs, but the members built so far are
        // destroyed: child_ kills and reaps the child.
        int pidfd = check(static_cast<int>(::syscall(SYS_pidfd_open, child_.pid, 0)), "pidfd_open");
        exit_.assign(pidfd);
    }
    // ANCHOR_END: owner

    // ANCHOR: handlers
    // Start both asynchronous operations; each handler keeps `self` alive.
    void start() {
        read_line();
        exit_.async_wait(asio::posix::descriptor_base::wait_read,
                         [self = shared_from_this()](boost::system::error_code ec) {
                             if (!ec) self->reap();
                         });
    }

    int id() const { return id_; }
    int lines() const { return lines_; }
    int exit_code() const { return exit_code_; }

private:
    void read_line() {
        asio::async_read_until(out_, asio::dynamic_buffer(buffer_), '\n',
            [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                if (ec == asio::error::eof) { std::cout << "child " << self->id_ << ": EOF\n"; return; }
                if (ec) throw boost::system::system_error(ec, "async_read_until");
                std::cout << "child " << self->id_ << " -> " << self->buffer_.substr(0, n - 1) << '\n';
                self->buffer_.erase(0, n);
                ++self->lines_;
                self->read_line();                   // queue the next read: no loop, no blocking
            });
    }

    void reap() {
        siginfo_t info{};
        check(::waitid(P_PIDFD, static_cast<id_t>(exit_.native_handle()), &info, WEXITED), "waitid");
        child_.pid = -1;                             // reaped: never kill a reused PID
        exit_code_ = info.si_code == CLD_EXITED ? info.si_status : -1;
        std::cout << "child " << id_ << " exited with code " << exit_code_ << '\n';
    }
    // ANCHOR_END: handlers

    int id_;
    int lines_ = 0, exit_code_ = -1;
    std::string buffer_;
    Child child_;                                    // the process: killed unless reaped
    asio::posix::stream_descriptor out_, exit_;
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: asio_children\n"; return 2; }
    constexpr int kChildren = 3;
    try {
        // ANCHOR: main
        asio::io_context io;
        std::vector<std::shared_ptr<AsyncChild>> children;
        for (int id = 0; id < kChildren; ++id) {
            children.push_back(std::make_shared<AsyncChild>(io, id));
            children.back()->start();
        }
        std::cout << "started " << kChildren << " children; io_context::run() on one thread\n";

        std::size_t handlers = io.run();             // returns when no work is left
        // ANCHOR_END: main

        bool ok = true;
        for (const auto& c : children) {
            bool right = c->lines() == 3 && c->exit_code() == 40 + c->id();
            std::cout << "child " << c->id() << ": " << c->lines() << " lines, exit code "
                      << c->exit_code() << (right ? " (as expected)" : " (WRONG)") << '\n';
            ok = ok && right;
        }
        std::cout << "io_context ran " << handlers << " handlers on one thread; "
                  << (ok ? "all output read and all children reaped" : "FAILED") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "asio_children: " << e.what() << '\n';
        return 1;
    }
}
