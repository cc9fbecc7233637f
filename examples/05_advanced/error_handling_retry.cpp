// error_handling_retry.cpp — how a child can fail, and what the parent does about it.
//
// A child fails in one of four ways: it exits with a non-zero code, it is
// killed by a signal (here a real SIGSEGV), it throws (we carry the exception
// back through a pipe, as remote_exception shows), or it hangs (a deadline,
// enforced with a pidfd, ends it with SIGKILL). On top of that: retries with
// exponential back-off, bounded by attempts and by an overall deadline.
#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <typeinfo>
#include <utility>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Owns a child: kills and reaps it if we leave before reaping it ourselves.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

/// Owns one file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) { reset(); fd_ = std::exchange(other.fd_, -1); }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

// pidfd wrappers via syscall(): glibc 2.36's <sys/pidfd.h> lacks extern "C".
int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int pidfd_kill(int pidfd, int sig) { return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0)); }

/// How one run of a child ended. Mirrors Python: exitcode >= 0, or -signal.
struct Outcome {
    enum Kind { Ok, ExitCode, Signal, Exception, Timeout } kind;
    int code = 0;           // exit code or signal number
    std::string payload;    // result, or "type: what" of the exception
    std::string describe() const {
        switch (kind) {
        case Ok: return "ok, result " + payload;
        case ExitCode: return "exit code " + std::to_string(code);
        case Signal: return std::string("killed by SIG") + ::sigabbrev_np(code) + " (Python exitcode " +
                            std::to_string(-code) + ")";
        case Exception: return "exception " + payload;
        case Timeout: return "deadline exceeded, killed with SIGKILL";
        }
        return "?";
    }
};

using Task = std::function<std::string()>;

std::string type_name(const std::exception& e) {
    int status = 0;
    char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
    std::string out = status == 0 ? name : typeid(e).name();
    std::free(name);
    return out;
}

/// Child side: run the task, send "R<result>" or "E<type>: <what>" up the pipe.
[[noreturn]] void child_main(const Task& task, int out) {
    // A crash should not leave a core file in the current directory.
    struct rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::prctl(PR_SET_DUMPABLE, 0);
    std::string message;
    int code = 0;
    try {
        message = "R" + task();
    } catch (const std::exception& e) {
        message = "E" + type_name(e) + ": " + e.what();
        code = 1;
    } catch (...) {   // anything else must not unwind into the parent's code either
        message = "Eunknown exception";
        code = 1;
    }
    if (::write(out, message.data(), message.size()) != static_cast<ssize_t>(message.size())) code = 2;
    ::_exit(code);
}

/// Milliseconds from now until `t`, for poll(); 0 once it has passed.
int ms_until(Clock::time_point t) {
    return static_cast<int>(std::max<Ms::rep>(0, std::chrono::duration_cast<Ms>(t - Clock::now()).count()));
}

/// poll() on one fd until it is readable or `until` passes; false on time-out.
bool readable_before(int fd, Clock::time_point until) {
    pollfd p{fd, POLLIN, 0};
    int ready;
    while ((ready = ::poll(&p, 1, ms_until(until))) == -1 && errno == EINTR) {}
    return check(ready, "poll") == 1;
}

/// Runs `task` in a child and gives it at most `deadline`. Read, then wait: a child
/// whose result is larger than the pipe (64 KiB) blocks in write() until we read, so
/// waiting for its exit first would mistake it for a hang.
Outcome run_in_child(const Task& task, Ms deadline) {
    const auto give_up_at = Clock::now() + deadline;
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end(fds[0]), write_end(fds[1]);
    std::fflush(stdout);
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) { read_end.reset(); child_main(task, write_end.get()); }
    write_end.reset();
    // A pidfd becomes readable when the child exits: poll() gives us a timeout.
    Fd pidfd(check(pidfd_open(child.pid), "pidfd_open"));

    std::string message;   // read until EOF: the child's end closes when it exits
    bool timed_out = false;
    for (char buf[4096];;) {
        if (!readable_before(read_end.get(), give_up_at)) { timed_out = true; break; }
        ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n == -1 && errno == EINTR) continue;
        if (check(static_cast<int>(n), "read") == 0) break;
        message.append(buf, static_cast<size_t>(n));
    }
    if (!timed_out) timed_out = !readable_before(pidfd.get(), give_up_at);   // then wait, still bounded
    if (timed_out) check(pidfd_kill(pidfd.get(), SIGKILL), "pidfd_send_signal");
    int status = 0;
    while (::waitpid(child.pid, &status, 0) == -1)
        if (errno != EINTR) check(-1, "waitpid");
    child.pid = -1;   // reaped: the pid may now belong to someone else

    if (timed_out) return {Outcome::Timeout, 0, ""};
    if (WIFSIGNALED(status)) return {Outcome::Signal, WTERMSIG(status), ""};
    if (!message.empty() && message[0] == 'E') return {Outcome::Exception, 1, message.substr(1)};
    if (WEXITSTATUS(status) != 0) return {Outcome::ExitCode, WEXITSTATUS(status), ""};
    return {Outcome::Ok, 0, message.substr(message.empty() ? 0 : 1)};
}

// ------------------------------------------------------------- the tasks
std::string answer() { return "42"; }
// More than a pipe holds (64 KiB): the child blocks in write() until the parent reads.
std::string big_result() { return std::string(100 * 1024, 'x'); }
// _exit, not std::exit: a forked child must not run the parent's atexit handlers
// and static destructors, or flush stdio buffers it inherited.
std::string exits_with_3() { ::_exit(3); }
std::string segfaults() {
    // A page we may not touch: writing to it is a genuine SIGSEGV, no UB tricks.
    // Default action (die by the signal), even if a sanitizer or crash
    // reporter installed a SIGSEGV handler in this program.
    std::signal(SIGSEGV, SIG_DFL);
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return "mmap failed";
    *static_cast<volatile char*>(page) = 1;
    return "survived?";
}
std::string throws() { throw std::invalid_argument("input must be positive"); }
std::string hangs() { std::this_thread::sleep_for(10s); return "woke up"; }

/// Retries with exponential back-off: 10 ms, 20 ms, 40 ms, ... Stops after
/// `max_attempts` or when the overall `budget` is spent, whichever comes first.
Outcome retry(const char* label, const std::function<Task(int)>& make_attempt, int max_attempts,
              Ms per_attempt, Ms budget) {
    const auto give_up_at = Clock::now() + budget;
    Ms backoff = 10ms;
    for (int attempt = 1;; ++attempt) {
        auto left = std::chrono::duration_cast<Ms>(give_up_at - Clock::now());
        Outcome o = run_in_child(make_attempt(attempt), std::clamp(left, 1ms, per_attempt));
        std::printf("  %s attempt %d: %s\n", label, attempt, o.describe().c_str());
        if (o.kind == Outcome::Ok) return o;
        if (attempt == max_attempts) {
            std::printf("  %s: giving up after %d attempts\n", label, attempt);
            return o;
        }
        if (Clock::now() + backoff >= give_up_at) {
            std::printf("  %s: giving up, the overall deadline of %lld ms is reached\n", label,
                        static_cast<long long>(budget.count()));
            return o;
        }
        std::printf("  %s: retrying in %lld ms\n", label, static_cast<long long>(backoff.count()));
        std::this_thread::sleep_for(backoff);
        backoff *= 2;   // production code also adds random jitter here
    }
}

bool g_ok = true;
void expect(bool holds, const char* claim) {
    std::printf("  %s %s\n", holds ? "ok:" : "FAIL:", claim);
    g_ok = g_ok && holds;
}

/// Part 1: one child per way of failing.
void show_failure_modes() {
    std::printf("1. four ways for a child to fail (deadline 300 ms each)\n");
    Outcome fine = run_in_child(answer, 300ms);
    std::printf("  returns 42          -> %s\n", fine.describe().c_str());
    Outcome big = run_in_child(big_result, 300ms);
    std::printf("  returns 100 KiB     -> %s\n",
                big.kind == Outcome::Ok ? ("ok, " + std::to_string(big.payload.size()) + " bytes").c_str()
                                        : big.describe().c_str());
    Outcome code = run_in_child(exits_with_3, 300ms);
    std::printf("  exit(3)             -> %s\n", code.describe().c_str());
    Outcome segv = run_in_child(segfaults, 300ms);
    std::printf("  writes to PROT_NONE -> %s\n", segv.describe().c_str());
    Outcome exc = run_in_child(throws, 300ms);
    std::printf("  throws              -> %s\n", exc.describe().c_str());
    auto started = Clock::now();
    Outcome hung = run_in_child(hangs, 300ms);
    auto waited = std::chrono::duration_cast<Ms>(Clock::now() - started).count();
    std::printf("  sleeps 10 s         -> %s\n", hung.describe().c_str());
    expect(fine.kind == Outcome::Ok && fine.payload == "42", "a good result comes back as a value");
    expect(big.kind == Outcome::Ok && big.payload == big_result(),
           "a result larger than the pipe (64 KiB) arrives whole, not as a time-out");
    expect(code.kind == Outcome::ExitCode && code.code == 3, "the exit code is reported");
    expect(segv.kind == Outcome::Signal && segv.code == SIGSEGV, "the crash is reported as SIGSEGV; the parent lives on");
    expect(exc.kind == Outcome::Exception && exc.payload == "std::invalid_argument: input must be positive",
           "the exception's type and message came back (see remote_exception)");
    expect(hung.kind == Outcome::Timeout && waited < 1000, "the hung child was killed at its deadline, not after 10 s");
}

/// Part 2: a task that recovers, one that never does, one that always hangs.
void show_retries() {
    std::printf("2. retries with exponential back-off\n");
    auto flaky = [](int attempt) -> Task {   // fails twice, then works
        return [attempt] {
            if (attempt < 3) throw std::runtime_error("temporary failure #" + std::to_string(attempt));
            return std::string("done");
        };
    };
    Outcome r1 = retry("flaky", flaky, 5, 300ms, 2000ms);
    expect(r1.kind == Outcome::Ok, "a transient failure is retried until it succeeds");
    auto broken = [](int) -> Task { return exits_with_3; };
    Outcome r2 = retry("broken", broken, 4, 300ms, 2000ms);
    expect(r2.kind == Outcome::ExitCode, "a permanent failure stops at the attempt limit");
    auto stuck = [](int) -> Task { return hangs; };
    Outcome r3 = retry("stuck", stuck, 10, 100ms, 250ms);
    expect(r3.kind == Outcome::Timeout, "an always-hanging task stops at the overall deadline");
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: error_handling_retry (takes no arguments)\n");
        return 2;
    }
    try {
        show_failure_modes();
        show_retries();
        return g_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "error_handling_retry: %s\n", e.what());
        return 1;
    }
}
