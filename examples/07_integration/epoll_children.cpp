// epoll_children.cpp — one thread, one epoll set, many child processes.
//
// Each child writes a few lines into its own pipe and then exits. The parent
// never blocks on any single child: it registers every pipe AND every child's
// pidfd in one epoll set and reacts to whichever is ready first. A pidfd
// becomes readable when its process exits, so "a child finished" is an event
// just like "a child wrote something" (Py: asyncio's event loop).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

/// Owns one file descriptor; closes it exactly once.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    int get() const { return fd_; }
    void reset() { Fd().swap(*this); }
    void swap(Fd& o) noexcept { std::swap(fd_, o.fd_); }
private:
    int fd_ = -1;
};

// ANCHOR: owner
// glibc 2.36 has a pidfd_open() wrapper, older ones do not: the raw syscall
// works everywhere since Linux 5.3.
Fd pidfd_open(pid_t pid) {
    return Fd(check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), "pidfd_open"));
}

/// One supervised child: its pid, a pidfd (readable at exit) and the read end
/// of its output pipe. If the supervisor fails, the destructor kills and reaps.
struct Child {
    int id = 0;
    pid_t pid = -1;
    Fd pidfd, out;
    std::string pending;          // bytes after the last '\n'
    bool reaped = false;
    int status_code = 0;          // from waitid: exit code or signal number
    int how = 0;                  // CLD_EXITED / CLD_KILLED / CLD_DUMPED
    Child() = default;
    Child(Child&& o) noexcept            // a moved-from Child owns no process
        : id(o.id), pid(std::exchange(o.pid, -1)), pidfd(std::move(o.pidfd)),
          out(std::move(o.out)), pending(std::move(o.pending)), reaped(o.reaped),
          status_code(o.status_code), how(o.how) {}
    ~Child() {  // SIGKILL cannot be caught: this wait is bounded
        if (pid > 0 && !reaped && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};
// ANCHOR_END: owner

// ANCHOR: spawn
// The child's whole life: a few lines, a pause between them, then an exit.
// Child 3 dies by a signal so the parent has something to decode.
[[noreturn]] void child_main(int id, int write_fd) {
    for (int step = 1; step <= 3; ++step) {
        ::usleep(static_cast<useconds_t>((5 - id) * 15'000));   // later ids finish sooner
        char line[64];
        int n = std::snprintf(line, sizeof line, "child %d step %d\n", id, step);
        if (::write(write_fd, line, static_cast<size_t>(n)) != n) ::_exit(100);
    }
    if (id == 3) ::raise(SIGTERM);
    ::_exit(10 + id);
}

Child spawn(int id) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end(fds[0]), write_end(fds[1]);
    std::cout.flush();                       // or the child inherits our buffered text
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) child_main(id, write_end.get());
    Child c;
    c.id = id;
    c.pid = pid;
    c.pidfd = pidfd_open(pid);
    c.out = std::move(read_end);
    return c;                                // write_end closes here: EOF works
}
// ANCHOR_END: spawn

// ANCHOR: watch
// epoll hands back 64 bits per event; we pack "which child" and "which fd".
enum Kind : std::uint64_t { Output = 0, Exit = 1 };
std::uint64_t tag(std::size_t index, Kind kind) { return (index << 1) | kind; }

void watch(int ep, int fd, std::uint64_t data) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = data;
    check(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), "epoll_ctl ADD");
}

void unwatch(int ep, int fd) { check(::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr), "epoll_ctl DEL"); }
// ANCHOR_END: watch

// Pipe readable: print every complete line. read() == 0 means every writer
// has closed its end — the child is gone or closed stdout.
int on_output(int ep, Child& c) {
    char buf[256];
    ssize_t n = ::read(c.out.get(), buf, sizeof buf);
    if (n < 0) check(-1, "read");
    if (n == 0) { unwatch(ep, c.out.get()); c.out.reset(); return 0; }
    c.pending.append(buf, static_cast<std::size_t>(n));
    int lines = 0;
    for (std::size_t nl; (nl = c.pending.find('\n')) != std::string::npos; ++lines) {
        std::cout << "got: " << c.pending.substr(0, nl) << '\n';
        c.pending.erase(0, nl + 1);
    }
    return lines;
}

// ANCHOR: on_exit
// pidfd readable: the child has exited. waitid(P_PIDFD) reaps exactly that one.
void on_exit(int ep, Child& c) {
    siginfo_t info{};
    check(::waitid(P_PIDFD, static_cast<id_t>(c.pidfd.get()), &info, WEXITED), "waitid");
    c.reaped = true;
    c.how = info.si_code;
    c.status_code = info.si_status;
    unwatch(ep, c.pidfd.get());
    c.pidfd.reset();
    if (c.how == CLD_EXITED)
        std::cout << "exit: child " << c.id << " exited with code " << c.status_code << '\n';
    else
        std::cout << "exit: child " << c.id << " killed by signal " << c.status_code
                  << " (" << ::strsignal(c.status_code) << ")\n";
}
// ANCHOR_END: on_exit

/// What the loop saw, for the report.
struct LoopStats {
    int lines = 0, wakeups = 0, events = 0;
    std::vector<int> exit_order;
};

// ANCHOR: loop
// The event loop: two open fds per child; run until none is left. The only
// place this thread ever waits is epoll_wait, which returns whatever is ready.
LoopStats run_event_loop(int ep, std::vector<Child>& children) {
    LoopStats stats;
    std::size_t open_fds = 2 * children.size();
    while (open_fds > 0) {
        epoll_event events[16];
        int n = ::epoll_wait(ep, events, 16, -1);
        if (n < 0 && errno == EINTR) continue;
        check(n, "epoll_wait");
        ++stats.wakeups;
        stats.events += n;
        for (int i = 0; i < n; ++i) {
            Child& c = children[events[i].data.u64 >> 1];
            if ((events[i].data.u64 & 1) == Output) {
                stats.lines += on_output(ep, c);
                if (c.out.get() < 0) --open_fds;   // EOF: this pipe is done
            } else {
                on_exit(ep, c);
                stats.exit_order.push_back(c.id);
                --open_fds;
            }
        }
    }
    return stats;
}
// ANCHOR_END: loop

bool has_expected_status(const Child& c) {
    if (!c.reaped) return false;
    if (c.id == 3) return c.how == CLD_KILLED && c.status_code == SIGTERM;
    return c.how == CLD_EXITED && c.status_code == 10 + c.id;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: epoll_children\n"; return 2; }
    constexpr int kChildren = 5;
    try {
        // ANCHOR: main
        Fd ep(check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1"));
        std::vector<Child> children;
        children.reserve(kChildren);
        for (int id = 0; id < kChildren; ++id) {
            children.push_back(spawn(id));
            watch(ep.get(), children.back().out.get(), tag(children.size() - 1, Output));
            watch(ep.get(), children.back().pidfd.get(), tag(children.size() - 1, Exit));
        }
        std::cout << "started " << kChildren << " children; one thread now waits on "
                  << 2 * kChildren << " fds (a pipe and a pidfd per child)\n";

        LoopStats stats = run_event_loop(ep.get(), children);
        // ANCHOR_END: main

        std::cout << "exit order:";
        for (int id : stats.exit_order) std::cout << ' ' << id;
        std::cout << " (the order they finished in, not the order they started in)\n";
        bool lines_ok = stats.lines == 3 * kChildren;
        std::cout << "lines received = " << stats.lines << " (expected " << 3 * kChildren << ")\n";
        bool status_ok = std::all_of(children.begin(), children.end(), has_expected_status);
        std::cout << "all " << kChildren << " children reaped with the expected status: "
                  << (status_ok ? "yes" : "NO") << '\n';
        std::cout << "one thread handled " << stats.events << " events in " << stats.wakeups
                  << " epoll_wait calls, never blocking on a single child\n";
        return lines_ok && status_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "epoll_children: " << e.what() << '\n';
        return 1;
    }
}
