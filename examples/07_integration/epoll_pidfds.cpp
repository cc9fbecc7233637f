// epoll_pidfds.cpp — a child's exit as an epoll event: one pidfd per child.
//
// Five children sleep for different times and end in different ways (exit codes
// 10..14, child 3 by SIGTERM). A pidfd becomes readable when its process exits, so
// the parent puts all five in one epoll set and reaps each child, with
// waitid(P_PIDFD), in the order they finish (Py: asyncio.wait(..., FIRST_COMPLETED)).
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <stdexcept>
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

/// One child and its pidfd. If the parent fails, the destructor kills and reaps
/// the child (SIGKILL cannot be caught: this wait is bounded).
struct Child {
    pid_t pid = -1;
    Fd pidfd;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
};

// Starts child `id` and puts its pidfd in the epoll set.
void spawn(int ep, Child& c, int id) {
    std::cout.flush();                       // or the child inherits our buffered text
    c.pid = check(::fork(), "fork");
    if (c.pid == 0) {                        // the child: a pause, then the planned end
        ::usleep(static_cast<useconds_t>((5 - id) * 20'000));   // later ids finish sooner
        if (id == 3) ::raise(SIGTERM);
        ::_exit(10 + id);
    }
    // glibc 2.36 has a pidfd_open() wrapper, older ones do not: the raw system call
    // works everywhere since Linux 5.3.
    c.pidfd.fd = check(static_cast<int>(::syscall(SYS_pidfd_open, c.pid, 0)), "pidfd_open");
    epoll_event ev{};
    ev.events = EPOLLIN;                     // a pidfd is readable once its process exits
    ev.data.u32 = static_cast<std::uint32_t>(id);    // epoll hands it back: which child
    check(::epoll_ctl(ep, EPOLL_CTL_ADD, c.pidfd.fd, &ev), "epoll_ctl ADD");
}

// The pidfd fired: the child has exited, so waitid(P_PIDFD) returns at once. It
// reaps exactly this child, never one that another part of the program owns.
bool reap(int ep, Child& c, int id) {
    siginfo_t info{};
    check(::waitid(P_PIDFD, static_cast<id_t>(c.pidfd.fd), &info, WEXITED), "waitid");
    c.pid = -1;                              // reaped: the owner must not kill a reused PID
    check(::epoll_ctl(ep, EPOLL_CTL_DEL, c.pidfd.fd, nullptr), "epoll_ctl DEL");
    c.pidfd.reset();
    if (info.si_code == CLD_EXITED)
        std::cout << "exit: child " << id << " exited with code " << info.si_status << '\n';
    else
        std::cout << "exit: child " << id << " killed by signal " << info.si_status << " ("
                  << ::strsignal(info.si_status) << ")\n";
    return id == 3 ? info.si_code == CLD_KILLED && info.si_status == SIGTERM
                   : info.si_code == CLD_EXITED && info.si_status == 10 + id;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: epoll_pidfds\n"; return 2; }
    try {
        std::array<Child, kChildren> children;
        Fd ep{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
        for (int id = 0; id < kChildren; ++id) spawn(ep.fd, children[id], id);
        std::cout << "started " << kChildren << " children; one thread now waits on their pidfds\n";

        // The loop: the only place this thread waits is epoll_wait, never more than 5 s.
        int left = kChildren;
        bool status_ok = true;
        while (left > 0) {
            epoll_event events[8];
            int n = ::epoll_wait(ep.fd, events, 8, 5000);
            if (n < 0 && errno == EINTR) continue;
            if (check(n, "epoll_wait") == 0) throw std::runtime_error("no child exited for 5 s");
            for (int i = 0; i < n; ++i, --left) {
                int id = static_cast<int>(events[i].data.u32);
                status_ok = reap(ep.fd, children[id], id) && status_ok;
            }
        }
        std::cout << "all " << kChildren << " children reaped with the expected status: "
                  << (status_ok ? "yes" : "NO") << '\n';
        return status_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "epoll_pidfds: " << e.what() << '\n';
        return 1;
    }
}
