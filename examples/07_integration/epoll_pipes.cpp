// epoll_pipes.cpp — one thread, one epoll set, the output pipes of five children.
//
// Each child writes three lines into its own pipe, with pauses of different lengths,
// and exits. The parent never blocks on one child: it puts the read end of every pipe
// in one epoll set and reads whichever has data. read() == 0 (end-of-file) means the
// child has closed its end, which it does by exiting (Py: asyncio reading proc.stdout).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace {

constexpr int kChildren = 5;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Closes its descriptor once: by reset() or at scope exit.
struct Fd {
    int fd = -1;
    ~Fd() { reset(); }
    void reset() { if (fd >= 0) ::close(std::exchange(fd, -1)); }
};

/// One child and the read end of its pipe. If the parent fails, the destructor
/// kills and reaps the child (SIGKILL cannot be caught: this wait is bounded).
struct Child {
    pid_t pid = -1;
    Fd out;
    std::string pending;                     // bytes after the last '\n'
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
};

[[noreturn]] void child_main(int id, int write_fd) {
    for (int step = 1; step <= 3; ++step) {
        ::usleep(static_cast<useconds_t>((5 - id) * 15'000));   // later ids finish sooner
        char line[64];
        int n = std::snprintf(line, sizeof line, "child %d step %d\n", id, step);
        if (::write(write_fd, line, static_cast<size_t>(n)) != n) ::_exit(1);
    }
    ::_exit(0);
}

// Starts child `id` and puts the read end of its pipe in the epoll set.
void spawn(int ep, Child& c, int id) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    c.out.fd = fds[0];
    Fd write_end{fds[1]};                    // ours closes on return: then EOF works
    std::cout.flush();                       // or the child inherits our buffered text
    c.pid = check(::fork(), "fork");
    if (c.pid == 0) child_main(id, write_end.fd);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<std::uint32_t>(id);    // epoll hands it back: which child
    check(::epoll_ctl(ep, EPOLL_CTL_ADD, c.out.fd, &ev), "epoll_ctl ADD");
}

// The only place this thread waits is epoll_wait, and never for more than 5 s.
// Returns the number of lines read; ends when every pipe is at end-of-file.
int run_loop(int ep, std::array<Child, kChildren>& children) {
    int open = kChildren, lines = 0;
    while (open > 0) {
        epoll_event events[8];
        int n = ::epoll_wait(ep, events, 8, 5000);
        if (n < 0 && errno == EINTR) continue;
        if (check(n, "epoll_wait") == 0) throw std::runtime_error("no pipe ready for 5 s");
        for (int i = 0; i < n; ++i) {
            std::uint32_t id = events[i].data.u32;           // what spawn() stored
            Child& c = children[id];
            char buf[256];
            int got = check(static_cast<int>(::read(c.out.fd, buf, sizeof buf)), "read");
            if (got == 0) {                  // every write end is closed: this pipe is done
                check(::epoll_ctl(ep, EPOLL_CTL_DEL, c.out.fd, nullptr), "epoll_ctl DEL");
                c.out.reset();
                std::cout << "eof: child " << id << '\n';
                --open;
                continue;
            }
            c.pending.append(buf, static_cast<std::size_t>(got));
            for (std::size_t nl; (nl = c.pending.find('\n')) != std::string::npos; ++lines) {
                std::cout << "got: " << c.pending.substr(0, nl) << '\n';
                c.pending.erase(0, nl + 1);
            }
        }
    }
    return lines;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: epoll_pipes\n"; return 2; }
    try {
        std::array<Child, kChildren> children;
        Fd ep{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
        for (int id = 0; id < kChildren; ++id) spawn(ep.fd, children[id], id);
        std::cout << "started " << kChildren << " children; one thread now waits on their pipes\n";
        int lines = run_loop(ep.fd, children);

        // Every pipe is at end-of-file, so every child has exited: these waits are bounded.
        bool exited_ok = true;
        for (Child& c : children) {
            int status;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;                      // reaped: the owner must not kill a reused PID
            exited_ok = exited_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::cout << "lines received = " << lines << " (expected " << 3 * kChildren << ")\n"
                  << "all children exited with status 0: " << (exited_ok ? "yes" : "NO") << '\n';
        return lines == 3 * kChildren && exited_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "epoll_pipes: " << e.what() << '\n';
        return 1;
    }
}
