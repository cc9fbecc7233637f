// creating_process.cpp - a small RAII Process class, modelled on Python's
// multiprocessing.Process, and the ways to use it: a function as target,
// a lambda carrying arguments, a subclass overriding run(), several children
// at once, a child that throws, and a child that has to be stopped.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

}  // namespace

/// A child process that runs a callable, like Python's `multiprocessing.Process`.
///
/// Nothing runs until start(), which forks. The child calls run(): by default
/// that calls the target, and a subclass may override it instead, exactly as
/// in Python. The value run() returns becomes the child's exit status.
///
/// The object owns the child: if it is destroyed while the child is still
/// running, it kills the child with `SIGKILL` and reaps it, so a `Process`
/// can never leave a zombie or an orphan behind.
class Process {
public:
    /// The code a child runs; its return value is the exit status (0 = success).
    using Target = std::function<int()>;

    /// Creates a process object that will run `target` (Py: `Process(target=f, name=…)`).
    explicit Process(Target target = {}, std::string name = "Process")
        : target_(std::move(target)), name_(std::move(name)) {}

    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    /// Takes over the child of `other`, which is left empty.
    Process(Process&& other) noexcept
        : target_(std::move(other.target_)),
          name_(std::move(other.name_)),
          pid_(std::exchange(other.pid_, -1)),
          pidfd_(std::exchange(other.pidfd_, -1)),
          exitcode_(other.exitcode_) {}
    Process& operator=(Process&&) = delete;

    /// Kills (`SIGKILL`) and reaps a child that is still running, then closes the pidfd.
    virtual ~Process() {
        if (pid_ > 0 && !exitcode_) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        }
        if (pidfd_ != -1) ::close(pidfd_);
    }

    /// Forks the child, which runs run() and exits with its result (Py: `start()`).
    /// Throws `std::logic_error` if called twice, `std::system_error` if fork fails.
    void start() {
        if (pid_ != -1) throw std::logic_error("Process::start called twice");
        // Flush first: the child gets a copy of our stdio buffers and would
        // print anything still in them a second time.
        std::cout.flush();
        std::fflush(nullptr);
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) _exit(run_in_child());
        // A pidfd refers to this very child even if its PID is later reused;
        // poll() on it says when the child has exited (Linux >= 5.3).
        // (Called through syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".)
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    }

    /// Waits for the child to finish (Py: `join(timeout)`).
    ///
    /// With no timeout it blocks until the child exits. With a timeout it
    /// returns `false` if the child is still running when the time is up.
    bool join(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
        require_started();
        if (exitcode_) return true;
        if (timeout && !wait_exit(*timeout)) return false;
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1) {
            if (errno != EINTR) check(-1, "waitpid");
        }
        record(status);
        return true;
    }

    /// `true` while the child is running; reaps it as soon as it has ended (Py: `is_alive()`).
    bool is_alive() {
        if (pid_ <= 0 || exitcode_) return false;
        int status = 0;
        if (check(::waitpid(pid_, &status, WNOHANG), "waitpid") == 0) return true;
        record(status);
        return false;
    }

    /// Asks the child to stop with `SIGTERM`, which it may handle (Py: `terminate()`).
    void terminate() { send(SIGTERM); }

    /// Stops the child with `SIGKILL`, which it cannot catch or ignore (Py: `kill()`).
    void kill() { send(SIGKILL); }

    /// The exit status once the child has been reaped, like Python's `exitcode`:
    /// `std::nullopt` while running, the exit code if it exited, `-N` if signal N killed it.
    std::optional<int> exitcode() const { return exitcode_; }

    /// The child's process ID, or -1 before start() (Py: `pid`).
    pid_t pid() const { return pid_; }

    /// The name given at construction (Py: `name`).
    const std::string& name() const { return name_; }

protected:
    /// The code run in the child (Py: `run()`). Calls the target; override to replace it.
    virtual int run() { return target_ ? target_() : 0; }

private:
    Target target_;
    std::string name_;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    std::optional<int> exitcode_;

    // In the child: run, turn an escaping exception into exit status 1 (as
    // Python does with a traceback), flush, and leave with _exit() so that the
    // parent's atexit handlers and static destructors do not run a second time.
    int run_in_child() noexcept {
        int code = 1;
        try {
            code = run();
        } catch (const std::exception& e) {
            std::cerr << name_ << ": uncaught exception: " << e.what() << '\n';
        } catch (...) {
            std::cerr << name_ << ": uncaught exception\n";
        }
        std::cout.flush();
        std::fflush(nullptr);
        return code;
    }

    // Waits up to `timeout` for the child to exit, without reaping it.
    bool wait_exit(std::chrono::milliseconds timeout) {
        if (pidfd_ != -1) {
            pollfd p{pidfd_, POLLIN, 0};
            int n;
            while ((n = ::poll(&p, 1, static_cast<int>(timeout.count()))) == -1 &&
                   errno == EINTR) {}
            return check(n, "poll") == 1;
        }
        // No pidfd (old kernel): poll with WNOHANG, a few milliseconds at a time.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        siginfo_t info{};
        do {
            info.si_pid = 0;
            check(::waitid(P_PID, static_cast<id_t>(pid_), &info,
                           WEXITED | WNOHANG | WNOWAIT),
                  "waitid");
            if (info.si_pid != 0) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        } while (std::chrono::steady_clock::now() < deadline);
        return false;
    }

    void record(int status) {
        if (WIFEXITED(status)) exitcode_ = WEXITSTATUS(status);
        else if (WIFSIGNALED(status)) exitcode_ = -WTERMSIG(status);
    }

    void require_started() const {
        if (pid_ == -1) throw std::logic_error("Process " + name_ + " was not started");
    }

    void send(int sig) {
        require_started();
        // Once reaped, the PID may belong to someone else: never signal it then.
        if (!exitcode_) check(::kill(pid_, sig), "kill");
    }
};

namespace {

// --- the examples --------------------------------------------------------

// Py: def worker_function(): ...   Process(target=worker_function)
int worker_function() {
    std::cout << "worker_function running in pid " << getpid()
              << " (parent " << getppid() << ")\n";
    return 0;
}

// Py: class Countdown(Process): def run(self): ...
class Countdown : public Process {
public:
    explicit Countdown(int from) : Process({}, "Countdown"), from_(from) {}

protected:
    int run() override {
        std::cout << name() << ": ";
        for (int i = from_; i > 0; --i) std::cout << i << ' ';
        std::cout << "lift-off\n";
        return 0;
    }

private:
    int from_;
};

bool report(const Process& p, int expected) {
    const int code = p.exitcode().value_or(999);
    std::cout << p.name() << ": exitcode = " << code << " (expected " << expected << ")\n";
    return code == expected;
}

bool run_function() {
    Process p(worker_function, "function");
    p.start();
    p.join();
    return report(p, 0);
}

// Py: Process(target=f, args=(x, y)). A lambda's captures are the arguments;
// the child gets a copy of them, as it gets a copy of everything else.
bool run_lambda_with_arguments() {
    const std::string greeting = "hello";
    int times = 3;
    Process p(
        [greeting, times] {
            for (int i = 0; i < times; ++i)
                std::cout << greeting << (i + 1 < times ? ' ' : '\n');
            return times;  // any small number becomes the exit status
        },
        "lambda");
    p.start();
    p.join();
    return report(p, 3);
}

bool run_subclass() {
    Countdown c(3);
    c.start();
    c.join();
    return report(c, 0);
}

// Start all, then join all: the children run at the same time.
bool run_several() {
    std::vector<Process> workers;
    workers.reserve(3);
    for (int i = 0; i < 3; ++i) {
        workers.emplace_back([i] {
            std::cout << "worker " << i << " running in its own process\n";
            return 0;
        }, "worker-" + std::to_string(i));
    }
    for (auto& w : workers) w.start();
    bool ok = true;
    for (auto& w : workers) {
        w.join();
        ok = (w.exitcode() == 0) && ok;
    }
    std::cout << "all 3 workers joined, all exitcodes 0: " << (ok ? "yes" : "no") << '\n';
    return ok;
}

// An exception cannot cross into the parent: the child reports it and exits 1.
bool run_throwing() {
    Process p([]() -> int { throw std::runtime_error("bad input"); }, "thrower");
    p.start();
    p.join();
    return report(p, 1);
}

// join(timeout) gives up on a child that does not finish; terminate() stops it.
bool run_and_stop_a_sleeper() {
    Process p([] {
        ::pause();  // sleep until a signal arrives
        return 0;
    }, "sleeper");
    p.start();
    const bool finished = p.join(std::chrono::milliseconds(200));
    std::cout << "sleeper: join(200 ms) returned " << (finished ? "true" : "false")
              << ", is_alive() = " << (p.is_alive() ? "true" : "false") << '\n';
    p.terminate();
    p.join();
    return !finished && report(p, -SIGTERM);
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        bool ok = run_function();
        ok = run_lambda_with_arguments() && ok;
        ok = run_subclass() && ok;
        ok = run_several() && ok;
        ok = run_throwing() && ok;
        ok = run_and_stop_a_sleeper() && ok;
        std::cout << (ok ? "ok: every child ran and reported the expected exitcode\n"
                         : "FAILED: some exitcode was unexpected\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
