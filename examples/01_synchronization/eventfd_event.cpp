// eventfd_event.cpp - the Linux way to build an Event (Python: multiprocessing.Event;
// os.eventfd() since 3.10): eventfd(), a 64-bit counter behind a descriptor.
// set() writes 1; wait(ms) is poll(), which also waits for pipes and sockets, and
// nobody reads, so ALL waiters wake; clear() reads (returns the counter, resets it).
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <system_error>

namespace {
// A failed call throws, naming the call; main prints it.
int check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return static_cast<int>(rc);
}
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct EventFd {  // children forked after it inherit the descriptor
    EventFd() : fd(check(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {}
    ~EventFd() { ::close(fd); }
    EventFd(const EventFd&) = delete;
    void set() {  // each write ADDS to the counter
        const std::uint64_t one = 1;
        check(::write(fd, &one, sizeof one), "write");
    }
    std::uint64_t clear() {  // EFD_NONBLOCK: 0 instead of blocking when unset
        std::uint64_t sum = 0;
        if (::read(fd, &sum, sizeof sum) == -1 && errno != EAGAIN) check(-1, "read");
        return sum;
    }
    bool wait(int ms) const {  // true if set within ms (is_set() is wait(0)); reads nothing
        pollfd p{fd, POLLIN, 0};
        return check(::poll(&p, 1, ms), "poll") == 1;  // 0: the time ran out
    }
    int fd;
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        EventFd ready;  // workers -> parent, used as a counter
        EventFd gun;    // parent -> workers, used as an event
        std::cout << "wait(100 ms) before set(): " << std::boolalpha << gun.wait(100)
                  << " (timed out)\n";
        Child workers[3];  // if a fork fails, the started ones are killed
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here, whatever happens
                int code = 1;  // "at the start line" (the counts add up), then 5 s at most
                try { ready.set(); code = gun.wait(5000) ? 0 : 1; } catch (...) {}
                _exit(code);
            }
        }
        std::uint64_t at_line = 0;  // each read returns the sum so far and resets it
        while (at_line < 3 && ready.wait(5000)) at_line += ready.clear();
        std::cout << "workers at the start line: " << at_line << '\n';
        gun.set();  // one write wakes every poll()
        int saw_it = 0;
        for (Child& w : workers) {  // each ends by itself: 5 s at most
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            saw_it += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        const bool was_set = gun.wait(0);
        gun.clear();
        const bool is_set = gun.wait(0);
        std::cout << "set(): workers that saw it: " << saw_it << " of 3\n"
                  << "is_set() before clear() = " << was_set << ", after = " << is_set << '\n';
        return at_line == 3 && saw_it == 3 && was_set && !is_set ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "eventfd_event: " << e.what() << '\n';
        return 1;
    }
}
