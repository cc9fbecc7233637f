// eventfd_event.cpp - the Linux way to build an Event: eventfd(), a 64-bit
// counter behind a file descriptor. Waiting is poll(), the call that also waits
// for pipes and sockets, and the time-out comes with it.
//     set()     write 1          (counter > 0: readable)
//     wait(t)   poll, t ms       (nobody reads, so ALL waiters wake)
//     is_set()  poll, 0 ms
//     clear()   read             (returns the counter and resets it to 0)
// Python: multiprocessing.Event; os.eventfd() exists since Python 3.10.
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

constexpr int kWorkers = 3;

// A failed call throws, naming the call; main prints it.
int check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return static_cast<int>(rc);
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

/// An Event on an eventfd; children forked after it inherit the descriptor.
class EventFd {
public:
    EventFd() : fd_(check(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd")) {}
    ~EventFd() { ::close(fd_); }
    EventFd(const EventFd&) = delete;

    void set() {  // each write ADDS to the counter
        const std::uint64_t one = 1;
        check(::write(fd_, &one, sizeof one), "write");
    }
    std::uint64_t clear() {  // EFD_NONBLOCK: 0 instead of blocking when unset
        std::uint64_t sum = 0;
        if (::read(fd_, &sum, sizeof sum) == -1 && errno != EAGAIN) check(-1, "read");
        return sum;
    }
    bool is_set() const { return wait(0); }
    bool wait(int ms) const {  // true if set within ms; does not consume the event
        pollfd p{fd_, POLLIN, 0};
        int n;
        while ((n = ::poll(&p, 1, ms)) == -1 && errno == EINTR) {}
        return check(n, "poll") == 1;
    }

private:
    int fd_;
};

int worker(EventFd& ready, EventFd& gun) {
    ready.set();  // "I am at the start line": the counter adds up to kWorkers
    return gun.wait(5000) ? 0 : 1;  // no gun within 5 s: give up, report failure
}

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

        Child workers[kWorkers];  // if a fork fails, the started ones are killed
        for (auto& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = worker(ready, gun); } catch (...) {}
                _exit(code);
            }
        }
        std::uint64_t at_line = 0;  // each read returns the sum so far and resets it
        while (at_line < kWorkers && ready.wait(5000)) at_line += ready.clear();
        std::cout << "workers at the start line: " << at_line << '\n';

        gun.set();  // one write wakes every poll()
        int saw_it = 0;
        for (auto& w : workers) {  // each ends by itself: 5 s at most
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;  // reaped
            saw_it += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::cout << "set(): workers that saw it: " << saw_it << " of " << kWorkers << '\n';
        const bool was_set = gun.is_set();
        gun.clear();
        std::cout << "is_set() before clear() = " << was_set << ", after = " << gun.is_set()
                  << '\n';
        return at_line == kWorkers && saw_it == kWorkers && was_set && !gun.is_set() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "eventfd_event: " << e.what() << '\n';
        return 1;
    }
}
