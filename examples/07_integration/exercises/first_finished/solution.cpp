// first_finished (exercise, reference solution) - three children end at
// different times; one epoll set watches a pidfd per child, so the parent reaps
// each the moment it ends, in the order they finish, never blocking on one.
// Python: multiprocessing.connection.wait([p.sentinel for p in processes]).
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <system_error>

namespace {

constexpr int kChildren = 3;
constexpr int kEndMs[kChildren] = {450, 150, 300};  // after the common start

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { if (fd >= 0) ::close(fd); }
};
struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
    Fd pidfd;  // readable once the child has ended
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Fd epoll{check(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1")};
        Child children[kChildren];
        timespec start{};  // one clock for all: a slow fork() does not shift the others
        ::clock_gettime(CLOCK_MONOTONIC, &start);
        std::cout.flush();  // the children must not inherit unprinted output
        for (int i = 0; i < kChildren; ++i) {
            children[i].pid = check(::fork(), "fork");
            if (children[i].pid == 0) {
                timespec end = start;
                end.tv_sec += kEndMs[i] / 1000;
                end.tv_nsec += 1000000L * (kEndMs[i] % 1000);
                if (end.tv_nsec >= 1000000000L) { end.tv_nsec -= 1000000000L; ++end.tv_sec; }
                while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, nullptr) == EINTR) {}
                _exit(0);
            }
            children[i].pidfd.fd = check(static_cast<int>(
                ::syscall(SYS_pidfd_open, children[i].pid, 0)), "pidfd_open");
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u32 = static_cast<uint32_t>(i);  // which child: its index
            check(::epoll_ctl(epoll.fd, EPOLL_CTL_ADD, children[i].pidfd.fd, &ev), "epoll_ctl");
        }
        for (int reaped = 0; reaped < kChildren;) {
            epoll_event ev{};
            // Bounded: a child that never ends is a failure, not a hang.
            if (check(::epoll_wait(epoll.fd, &ev, 1, 5000), "epoll_wait") == 0)
                throw std::runtime_error("no child ended within 5 s");
            Child& c = children[ev.data.u32];
            check(::epoll_ctl(epoll.fd, EPOLL_CTL_DEL, c.pidfd.fd, nullptr), "epoll_ctl");
            check(::waitpid(c.pid, nullptr, 0), "waitpid");  // it has ended: no wait
            c.pid = -1;  // reaped
            ++reaped;
            std::cout << "child " << ev.data.u32 << " ended (at +" << kEndMs[ev.data.u32]
                      << " ms)\n";
        }
        std::cout << "all " << kChildren << " children reaped in the order they finished\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "first_finished: " << e.what() << '\n';
        return 1;
    }
}
