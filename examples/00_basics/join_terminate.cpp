// join_terminate.cpp - Python's terminate() sends SIGTERM, which a child may
// handle to stop cleanly; kill() sends SIGKILL, which it cannot. The polite
// sequence: terminate(), join(timeout), and kill() only if it is still alive.
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
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns one file descriptor.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { close(); }
    int get() const { return fd_; }
    void close() { if (fd_ != -1) ::close(std::exchange(fd_, -1)); }

private:
    int fd_;
};

// ANCHOR: child
// Owns a child that runs `body` and tells us, through a pipe, when it is
// ready. If we leave early, the child is killed and reaped.
class Child {
public:
    template <class Body>
    explicit Child(Body body) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        Fd ready_read(fds[0]), ready_write(fds[1]);
        std::cout.flush();  // else the child inherits our buffer and prints it again
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) run_child(body, ready_write.get());
        ready_write.close();  // now EOF means "the child is gone", never a hang
        char c;
        if (check(static_cast<int>(::read(ready_read.get(), &c, 1)), "read") != 1)
            throw std::runtime_error("the child died before it was ready");
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { if (pid_ > 0 && ::kill(pid_, SIGKILL) == 0) ::waitpid(pid_, nullptr, 0); }
    pid_t pid() const { return pid_; }
    int wait() {  // the raw status word; the child is reaped
        int status = 0;
        check(::waitpid(pid_, &status, 0), "waitpid");
        pid_ = -1;
        return status;
    }

private:
    // Every child body runs here and ends with _exit, whatever happens.
    template <class Body>
    [[noreturn]] static void run_child(Body body, int ready_fd) noexcept {
        int code = 1;
        try {
            code = body(ready_fd);
        } catch (const std::exception& e) {
            std::cerr << "child: " << e.what() << '\n';
        } catch (...) {
        }
        std::cout.flush();
        _exit(code);
    }
    pid_t pid_ = -1;
};
// ANCHOR_END: child

void say_ready(int fd) { check(static_cast<int>(::write(fd, "!", 1)), "write"); }

// ANCHOR: workers
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_sigterm(int) { g_stop = 1; }  // a handler may do little else safely

// Handles SIGTERM: the handler sets a flag, the loop sees it and finishes.
int graceful_worker(int ready_fd) {
    sigset_t term, others;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    // Blocked until sigsuspend: a SIGTERM between "check g_stop" and "sleep"
    // would otherwise be missed, and the worker would sleep for ever.
    check(::sigprocmask(SIG_BLOCK, &term, &others), "sigprocmask");
    struct sigaction sa{};
    sa.sa_handler = on_sigterm;
    check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
    say_ready(ready_fd);
    while (!g_stop) ::sigsuspend(&others);  // unblock SIGTERM and sleep, in one step
    std::cout << "  graceful worker: got SIGTERM, finished its work, exiting with 0\n";
    return 0;
}

// Ignores SIGTERM: only SIGKILL ends it.
int stubborn_worker(int ready_fd) {
    struct sigaction sa{};
    sa.sa_handler = SIG_IGN;
    check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
    say_ready(ready_fd);
    for (;;) ::pause();
}
// ANCHOR_END: workers

// ANCHOR: stop
// Without pidfds (Linux < 5.3, or a seccomp filter that refuses pidfd_open):
// ask waitid(WNOHANG) every 5 ms until the deadline; WNOWAIT leaves it unreaped.
bool join_by_polling(pid_t pid, int ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        siginfo_t info{};
        check(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT),
              "waitid");
        if (info.si_pid != 0) return true;  // it ended (a zombie now)
        if (ms >= 0 && std::chrono::steady_clock::now() >= deadline) return false;
        ::usleep(5000);
    }
}

// join(timeout) on a pidfd: true if the child ended in time (see join_timeout).
bool join(pid_t pid, int timeout_ms) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd == -1 && (errno == ENOSYS || errno == EPERM)) return join_by_polling(pid, timeout_ms);
    Fd pidfd(check(fd, "pidfd_open"));
    pollfd p{pidfd.get(), POLLIN, 0};
    return check(::poll(&p, 1, timeout_ms), "poll") == 1;
}

// terminate(), join(grace), kill() if still alive; returns Py's exitcode.
int stop(Child& child, const char* name, int grace_ms) {
    std::cout << "terminate() the " << name << ": kill(pid, SIGTERM)" << std::endl;
    check(::kill(child.pid(), SIGTERM), "kill");
    if (!join(child.pid(), grace_ms)) {
        std::cout << "  join(" << grace_ms
                  << " ms) -> still alive; kill(): kill(pid, SIGKILL)\n";
        check(::kill(child.pid(), SIGKILL), "kill");  // cannot be caught: it ends
    }
    const int status = child.wait();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}
// ANCHOR_END: stop

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // ANCHOR: main
        // 10 s is only a bound: a worker that handles SIGTERM ends in milliseconds.
        Child graceful(graceful_worker);
        const int a = stop(graceful, "graceful worker", 10'000);
        std::cout << "  exitcode " << a << (a == 0 ? " ✓ it handled SIGTERM" : " ✗")
                  << '\n';

        // It ignores SIGTERM, so it cannot end within the 200 ms: that is logic.
        Child stubborn(stubborn_worker);
        const int b = stop(stubborn, "stubborn worker", 200);
        std::cout << "  exitcode " << b
                  << (b == -SIGKILL ? " ✓ SIGKILL cannot be caught" : " ✗") << '\n';
        return (a == 0 && b == -SIGKILL) ? 0 : 1;
        // ANCHOR_END: main
    } catch (const std::exception& e) {
        std::cerr << "join_terminate: " << e.what() << '\n';
        return 1;
    }
}
