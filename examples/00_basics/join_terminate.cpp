// join_terminate.cpp - the primitives under Python's join(), exitcode,
// is_alive(), terminate() and kill():
//  1. waitpid() and decoding the status word (exit code or signal);
//  2. waiting with a timeout: pidfd_open() + poll(), and the WNOHANG fallback;
//  3. SIGTERM (may be handled: a graceful stop) versus SIGKILL (cannot be).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

using namespace std::chrono_literals;

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Print one line now: children write to the same pipe, so we flush to keep
// the captured output in the order things happened.
void say(const std::string& line) {
    std::cout << line << std::endl;
}

// Owns a child: if it is still running when we leave the scope (an exception,
// an early return), kill it and reap it.
class Child {
public:
    explicit Child(const std::function<int()>& body) {
        std::cout.flush();
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {
            int code = 1;
            try { code = body(); } catch (...) {}  // never unwind into the parent's code
            std::cout.flush();
            _exit(code);
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            while (::waitpid(pid_, nullptr, 0) == -1 && errno == EINTR) {}
        }
    }
    pid_t pid() const { return pid_; }
    // Blocking wait; returns the raw status word and forgets the child.
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1) {
            if (errno != EINTR) check(-1, "waitpid");
        }
        pid_ = -1;
        return status;
    }

private:
    pid_t pid_ = -1;
};

// The status word packs "how" and "how much". Py's exitcode: the exit code,
// or minus the signal number.
int exitcode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return 0;  // stopped/continued: only reported with WUNTRACED/WCONTINUED
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) +
               " (SIG" + sigabbrev_np(WTERMSIG(status)) + ")";
    return "stopped or continued";
}

bool decode_statuses() {
    bool ok = true;
    auto show = [&ok](const char* what, int status, int expected) {
        const int code = exitcode(status);
        say(std::string(what) + ": " + describe(status) + " -> exitcode " +
            std::to_string(code));
        ok = ok && code == expected;
    };
    struct Case {
        const char* what;
        int (*body)();
        int expected;
    };
    const Case cases[] = {
        {"return 0       ", [] { return 0; }, 0},
        {"return 3       ", [] { return 3; }, 3},
        {"raise(SIGTERM) ", [] { ::raise(SIGTERM); return 0; }, -SIGTERM},
        {"raise(SIGKILL) ", [] { ::raise(SIGKILL); return 0; }, -SIGKILL},
    };
    for (const auto& c : cases) {
        Child child(c.body);
        show(c.what, child.wait(), c.expected);
    }
    return ok;
}

// --- waiting with a timeout -------------------------------------------------

// Linux >= 5.3: a pidfd becomes readable when the process exits, so poll()
// gives a timed wait with no busy loop. It does not reap: waitpid still must.
bool wait_with_pidfd(pid_t pid, std::chrono::milliseconds timeout) {
    int fd = check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), "pidfd_open");
    pollfd p{fd, POLLIN, 0};
    int n;
    while ((n = ::poll(&p, 1, static_cast<int>(timeout.count()))) == -1 && errno == EINTR) {
    }
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return check(n, "poll") == 1;
}

// Portable fallback: ask "has it exited?" without blocking, and nap in between.
// WNOWAIT leaves the child waitable, so the caller still reaps it.
bool wait_with_wnohang(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        siginfo_t info{};
        check(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT),
              "waitid");
        if (info.si_pid == pid) return true;
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
}

bool is_alive(pid_t pid) {
    siginfo_t info{};
    check(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT),
          "waitid");
    return info.si_pid == 0;  // nothing to report: still running
}

// A one-shot notification between parent and child: one side writes a byte,
// the other blocks in read() until it arrives.
struct OneShot {
    int fd[2];
    OneShot() { check(::pipe2(fd, O_CLOEXEC), "pipe2"); }
    OneShot(const OneShot&) = delete;
    OneShot& operator=(const OneShot&) = delete;
    ~OneShot() { ::close(fd[0]); ::close(fd[1]); }
    void notify() { check(static_cast<int>(::write(fd[1], "!", 1)), "write"); }
    void wait() {
        char c;
        ssize_t n;
        while ((n = ::read(fd[0], &c, 1)) == -1 && errno == EINTR) {}
        if (n != 1) throw std::runtime_error("no notification");
    }
};

bool timed_joins() {
    bool ok = true;
    using Waiter = bool (*)(pid_t, std::chrono::milliseconds);
    const std::pair<const char*, Waiter> waiters[] = {{"pidfd+poll", wait_with_pidfd},
                                                      {"WNOHANG   ", wait_with_wnohang}};
    for (auto [name, wait_for] : waiters) {
        // The child cannot finish before we let it: the first wait must time out.
        OneShot go;
        Child c([&go] { go.wait(); return 0; });
        const bool early = wait_for(c.pid(), 50ms);
        const bool alive = is_alive(c.pid());
        go.notify();
        const bool later = wait_for(c.pid(), 5000ms);
        const int code = exitcode(c.wait());
        say(std::string(name) + ": join(50 ms) -> " + (early ? "finished" : "timed out") +
            ", is_alive=" + (alive ? "true" : "false") + "; join(5 s) -> " +
            (later ? "finished" : "timed out") + ", exitcode " + std::to_string(code));
        ok = ok && !early && alive && later && code == 0;
    }
    return ok;
}

// --- SIGTERM versus SIGKILL ----------------------------------------------

volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_sigterm(int) { g_stop = 1; }

// A well-behaved worker: SIGTERM sets a flag, the loop notices, it cleans up.
int graceful_worker(OneShot& ready) {
    struct sigaction sa{};
    sa.sa_handler = on_sigterm;
    ::sigaction(SIGTERM, &sa, nullptr);
    ready.notify();
    while (!g_stop) ::pause();  // real work would go here
    std::cout << "  graceful worker: got SIGTERM, flushed its work, exiting with 0"
              << std::endl;
    return 0;
}

// A stubborn worker ignores SIGTERM; only SIGKILL stops it.
int stubborn_worker(OneShot& ready) {
    ::signal(SIGTERM, SIG_IGN);
    ready.notify();
    for (;;) ::pause();
}

bool terminate_then_kill() {
    bool ok = true;
    {
        OneShot ready;  // the child says when its signal set-up is done
        Child c([&ready] { return graceful_worker(ready); });
        ready.wait();
        say("terminate() -> kill(pid, SIGTERM) to the graceful worker");
        check(::kill(c.pid(), SIGTERM), "kill");
        const int code = exitcode(c.wait());
        say("  graceful worker: exitcode " + std::to_string(code) +
            " (it handled SIGTERM)");
        ok = ok && code == 0;
    }
    {
        OneShot ready;  // the child says when its signal set-up is done
        Child c([&ready] { return stubborn_worker(ready); });
        ready.wait();
        say("terminate() -> kill(pid, SIGTERM) to the stubborn worker");
        check(::kill(c.pid(), SIGTERM), "kill");
        const bool stopped = wait_with_pidfd(c.pid(), 200ms);
        say(std::string("  stubborn worker: after 200 ms it is ") +
            (stopped ? "gone" : "still alive"));
        say("kill() -> kill(pid, SIGKILL)");
        check(::kill(c.pid(), SIGKILL), "kill");
        const int code = exitcode(c.wait());
        say("  stubborn worker: exitcode " + std::to_string(code) +
            " (SIGKILL cannot be caught)");
        ok = ok && !stopped && code == -SIGKILL;
    }
    return ok;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool a = decode_statuses();
        const bool b = timed_joins();
        const bool c = terminate_then_kill();
        say(std::string(a ? "ok" : "FAILED") +
            ": exit codes and signals decoded like Python's exitcode");
        say(std::string(b ? "ok" : "FAILED") +
            ": both timed joins gave up first, then saw the exit");
        say(std::string(c ? "ok" : "FAILED") +
            ": SIGTERM stopped the worker that handles it, SIGKILL the other");
        return (a && b && c) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
