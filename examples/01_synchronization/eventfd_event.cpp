// eventfd_event.cpp — the Linux way to build an Event: eventfd(), a 64-bit
// counter behind a file descriptor. Because it is a descriptor, waiting is
// poll()/epoll — the same call that waits for pipes and sockets — and a
// time-out comes for free.
//     set()        write 1            (counter > 0: readable)
//     is_set()     poll with 0 ms     (readable?)
//     wait(t)      poll with t ms     (nobody reads, so ALL waiters wake)
//     clear()      read               (resets the counter to 0)
//
// Python: multiprocessing.Event; os.eventfd() exists since Python 3.10.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <vector>

namespace {

constexpr int kWorkers = 3;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// An Event on an eventfd. Children forked after construction inherit the
/// descriptor; an unrelated process could receive it over a Unix socket.
class EventFd {
public:
    EventFd() : fd_(check(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {}
    ~EventFd() { close(fd_); }
    EventFd(const EventFd&) = delete;
    EventFd& operator=(const EventFd&) = delete;

    void set() {
        std::uint64_t one = 1;
        if (write(fd_, &one, sizeof one) != sizeof one) die("write(eventfd)");
    }
    void clear() { take(); }
    /// Reads and resets the counter; EFD_NONBLOCK makes it return 0 instead of
    /// blocking when nothing was written since last time.
    std::uint64_t take() {
        std::uint64_t value = 0;
        if (read(fd_, &value, sizeof value) == -1 && errno != EAGAIN)
            die("read(eventfd)");
        return value;
    }
    bool is_set() const { return wait_ms(0); }
    /// True if set within `ms` milliseconds. Does not consume the event.
    bool wait_ms(int ms) const {
        pollfd p{fd_, POLLIN, 0};
        int n;
        while ((n = poll(&p, 1, ms)) == -1 && errno == EINTR) {
        }
        check(n, "poll");
        return n == 1;
    }

private:
    int fd_;
};

int wait_child(pid_t pid) {
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/// Each worker reports "ready" on one eventfd, then waits for the other.
std::vector<pid_t> start_workers(EventFd& ready, EventFd& start) {
    std::vector<pid_t> workers;
    for (int id = 1; id <= kWorkers; ++id) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            ready.set();  // eventfd adds: the counter reaches kWorkers
            bool fired = start.wait_ms(5000);
            if (fired) std::cout << "worker " << id << " saw the gun\n";
            std::cout.flush();
            std::exit(fired ? 0 : 1);
        }
        workers.push_back(pid);
    }
    return workers;
}

/// Each write adds to the counter; each read returns the sum so far and resets it.
std::uint64_t count_ready(EventFd& ready) {
    std::uint64_t at_line = 0;
    while (at_line < kWorkers && ready.wait_ms(5000)) at_line += ready.take();
    std::cout << "workers at the start line: " << at_line << '\n';
    return at_line;
}

bool fire(EventFd& start, const std::vector<pid_t>& workers) {
    std::cout << "set(): the gun is fired\n";
    std::cout.flush();  // before the workers print
    start.set();
    int passed = 0;
    for (pid_t pid : workers) passed += wait_child(pid) == 0;
    std::cout << "workers that saw it: " << passed << " of " << kWorkers
              << " (one write wakes every poll)\n";
    return passed == kWorkers;
}

bool clear_resets(EventFd& start) {
    bool still_set = start.is_set();
    start.clear();
    bool after_clear = start.is_set();
    std::cout << "is_set() before clear() = " << std::boolalpha << still_set
              << ", after = " << after_clear << '\n';
    return still_set && !after_clear;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    EventFd ready;  // workers -> parent: "I am at the start line" (a counter)
    EventFd start;  // parent -> workers: the starting gun

    bool early = start.wait_ms(100);
    std::cout << "wait(100 ms) before set(): "
              << (early ? "true?!" : "false, timed out") << '\n';

    std::vector<pid_t> workers = start_workers(ready, start);
    bool ok = !early && count_ready(ready) == kWorkers;
    ok = fire(start, workers) && ok;
    ok = clear_resets(start) && ok;
    return ok ? 0 : 1;
}
