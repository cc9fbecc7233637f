// signals.cpp — SIGCHLD, signalfd and a graceful shutdown on SIGINT/SIGTERM.
//
// The parent blocks SIGCHLD, SIGINT and SIGTERM and reads them from a
// signalfd, like any other event: no async-signal-safety worries in main.
// Workers install a tiny SIGTERM handler that only sets a flag; they finish
// the unit of work in hand and exit cleanly. To demonstrate, the parent sends
// itself SIGINT (what Ctrl-C would do) after the first worker has exited.
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <system_error>
#include <utility>

namespace {


using Clock = std::chrono::steady_clock;
constexpr int kWorkers = 3;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {   // owns one descriptor
    int fd = -1;
    ~Fd() { reset(); }
    void reset() { if (fd >= 0) ::close(fd); fd = -1; }
};

// ----------------------------------------------------------- worker side
volatile std::sig_atomic_t g_stop = 0;
void on_sigterm(int) { g_stop = 1; }   // only sets a flag: async-signal-safe

void say(const char* fmt, int a, int b) {
    std::printf(fmt, a, b);
    std::fflush(stdout);
}

[[noreturn]] void worker_main(int id, int units_before_done) {
    // The child inherited the parent's blocked mask, so a SIGTERM sent right now
    // stays pending instead of killing us: install the handler, then unblock.
    struct sigaction sa{};
    sa.sa_handler = on_sigterm;   // no SA_RESTART: sleeps are cut short
    check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
    check(::signal(SIGINT, SIG_IGN) == SIG_ERR ? -1 : 0, "signal");   // Ctrl-C is the parent's job
    sigset_t all;
    sigemptyset(&all);
    check(::sigprocmask(SIG_SETMASK, &all, nullptr), "sigprocmask");

    int unit = 0;
    while (!g_stop) {
        timespec twenty_ms{0, 20'000'000};
        ::nanosleep(&twenty_ms, nullptr);   // one "unit of work"
        ++unit;
        if (unit == units_before_done) {
            say("  worker %d: finished all %d units, exiting\n", id, unit);
            std::_Exit(0);
        }
    }
    say("  worker %d: SIGTERM received, stopped after unit %d, exiting cleanly\n", id, unit);
    std::_Exit(0);
}

// ----------------------------------------------------------- parent side
/// Reaps every child that has exited. One SIGCHLD may stand for several
/// children (signals of one kind do not queue), hence the WNOHANG loop.
int reap(std::map<pid_t, int>& workers, int& clean) {
    int reaped = 0;
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) break;
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        clean += ok;
        ++reaped;
        std::printf("  SIGCHLD: reaped worker %d, %s\n", workers[pid],
                    ok ? "exit code 0" : WIFSIGNALED(status) ? "killed by a signal" : "non-zero exit");
        workers.erase(pid);
    }
    std::fflush(stdout);
    return reaped;
}

/// Owns the workers (pid -> worker number): kills and reaps any left if we leave early.
struct Workers : std::map<pid_t, int> {
    Workers() = default;
    Workers(const Workers&) = delete;
    ~Workers() {
        for (auto& [pid, id] : *this)
            if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

void start_workers(Workers& workers) {
    std::fflush(stdout);
    for (int id = 1; id <= kWorkers; ++id) {
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the child ends here, whatever happens: never in main's code
            try {
                worker_main(id, id == 1 ? 3 : 1'000'000);   // worker 1 finishes early
            } catch (const std::exception& e) {
                std::fprintf(stderr, "signals: worker %d: %s\n", id, e.what());
            }
            _exit(1);
        }
        workers[pid] = id;
    }
}

struct Summary { int clean = 0; bool shut_down = false, killed_any = false; long long shutdown_ms = 0; };

/// The parent's event loop: every signal arrives as a read() from `sigfd`.
Summary event_loop(int sigfd, std::map<pid_t, int>& workers) {
    Summary sum;
    Clock::time_point shutdown_started{}, hard_deadline = Clock::now() + std::chrono::seconds(5);
    while (!workers.empty()) {
        pollfd p{sigfd, POLLIN, 0};
        int ready = ::poll(&p, 1, 100);
        if (ready == -1 && errno != EINTR) check(-1, "poll");
        if (Clock::now() > hard_deadline && !sum.killed_any) {   // never hang the example
            for (auto& [pid, id] : workers) ::kill(pid, SIGKILL);
            sum.killed_any = true;
        }
        if (ready <= 0) continue;
        signalfd_siginfo info{};
        if (::read(sigfd, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
        if (info.ssi_signo == SIGCHLD) {
            reap(workers, sum.clean);
            if (!sum.shut_down && workers.size() == kWorkers - 1) {
                std::printf("main: simulating Ctrl-C with kill(getpid(), SIGINT)\n");
                std::fflush(stdout);
                check(::kill(::getpid(), SIGINT), "kill");
            }
        } else if (!sum.shut_down) {   // SIGINT or SIGTERM: shut down gracefully
            std::printf("main: got SIG%s from %s; asking %zu workers to stop with SIGTERM\n",
                        ::sigabbrev_np(static_cast<int>(info.ssi_signo)),
                        static_cast<pid_t>(info.ssi_pid) == ::getpid() ? "itself" : "another process",
                        workers.size());
            std::fflush(stdout);
            sum.shut_down = true;
            shutdown_started = Clock::now();
            hard_deadline = shutdown_started + std::chrono::seconds(1);   // then SIGKILL
            for (auto& [pid, id] : workers) check(::kill(pid, SIGTERM), "kill");
        }
    }
    sum.shutdown_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - shutdown_started).count();
    return sum;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: signals (takes no arguments)\n");
        return 2;
    }
    try {
    // Block before forking: no signal can arrive "between the cracks".
    sigset_t handled;
    sigemptyset(&handled);
    for (int s : {SIGCHLD, SIGINT, SIGTERM}) sigaddset(&handled, s);
    check(::sigprocmask(SIG_BLOCK, &handled, nullptr), "sigprocmask");
    Fd sigfd{check(::signalfd(-1, &handled, SFD_CLOEXEC), "signalfd")};

    // Said before the fork: a worker may print before main runs again.
    std::printf("main: starting %d workers; signals are read from a signalfd\n", kWorkers);
    Workers workers;
    start_workers(workers);   // flushes stdout first, so no child inherits main's line
    Summary sum = event_loop(sigfd.fd, workers);

    std::printf("main: all workers reaped; %d of %d exited with code 0\n", sum.clean, kWorkers);
    std::printf("main: graceful shutdown took %lld ms, SIGKILL needed: %s\n", sum.shutdown_ms,
                sum.killed_any ? "yes" : "no");
    bool ok = sum.clean == kWorkers && !sum.killed_any && sum.shut_down;
    std::printf("%s\n", ok ? "ok: every worker stopped cleanly on request"
                           : "FAIL: shutdown was not graceful");
    return ok ? 0 : 1;
    } catch (const std::exception& e) {   // ~Workers has killed and reaped the workers
        std::fflush(stdout);
        std::fprintf(stderr, "signals: %s\n", e.what());
        return 1;
    }
}
