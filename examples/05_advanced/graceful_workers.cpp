// graceful_workers.cpp — Ctrl-C stops the workers politely: SIGTERM, finish, exit 0.
//
// The parent blocks SIGINT and SIGTERM before forking and waits for one of them
// with sigtimedwait(). Each worker installs a SIGTERM handler that only sets a
// flag, then unblocks; on SIGTERM it finishes the unit of work in hand and exits
// 0. The parent reaps them within a deadline; SIGKILL is the fallback.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>
#include <system_error>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWorkers = 2;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

volatile std::sig_atomic_t g_stop = 0;
void on_sigterm(int) { g_stop = 1; }   // only sets a flag: async-signal-safe

[[noreturn]] void worker_main(int id) {
    // The mask is inherited, so a SIGTERM sent right now stays pending instead
    // of killing us: install the handler first, then unblock.
    struct sigaction sa{};
    sa.sa_handler = on_sigterm;   // no SA_RESTART: the sleep is cut short
    check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
    check(::signal(SIGINT, SIG_IGN) == SIG_ERR ? -1 : 0, "signal");   // Ctrl-C is the parent's job
    sigset_t none;
    sigemptyset(&none);
    check(::sigprocmask(SIG_SETMASK, &none, nullptr), "sigprocmask");
    int unit = 0;
    for (; !g_stop; ++unit) {
        timespec twenty_ms{0, 20'000'000};
        ::nanosleep(&twenty_ms, nullptr);   // one "unit of work"
    }
    std::printf("  worker %d: SIGTERM received, stopped after unit %d, exiting cleanly\n", id, unit);
    std::fflush(stdout);
    _exit(0);
}

/// Owns the workers (pid -> worker number): kills and reaps any left if we leave early.
struct Workers : std::map<pid_t, int> {
    Workers() = default;
    Workers(const Workers&) = delete;
    ~Workers() {
        for (auto& [pid, id] : *this)
            if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

/// Reaps every worker; any still running after 1 s gets SIGKILL. Returns how many exited 0.
int reap_all(Workers& workers, bool& killed_any) {
    auto deadline = Clock::now() + std::chrono::seconds(1);
    int clean = 0;
    while (!workers.empty()) {
        int status = 0;
        pid_t pid = check(::waitpid(-1, &status, WNOHANG), "waitpid");
        if (pid == 0) {   // none has exited yet: past the deadline, force it; look again soon
            if (Clock::now() > deadline && !killed_any)
                for (auto& [p, id] : workers) killed_any |= p > 0 && ::kill(p, SIGKILL) == 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
            continue;
        }
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        clean += ok;
        std::printf("  reaped worker %d, %s\n", workers[pid], ok ? "exit code 0" : "NOT exit code 0");
        workers.erase(pid);
    }
    return clean;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: graceful_workers (takes no arguments)\n");
        return 2;
    }
    try {
        sigset_t stop_signals;   // blocked before forking: none can arrive unnoticed
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGINT);
        sigaddset(&stop_signals, SIGTERM);
        check(::sigprocmask(SIG_BLOCK, &stop_signals, nullptr), "sigprocmask");

        std::printf("main: starting %d workers\n", kWorkers);
        std::fflush(stdout);
        Workers workers;
        for (int id = 1; id <= kWorkers; ++id) {
            pid_t pid = check(::fork(), "fork");
            if (pid == 0) {  // the child ends here, whatever happens: never in main's code
                try { worker_main(id); } catch (const std::exception& e) {
                    std::fprintf(stderr, "graceful_workers: worker %d: %s\n", id, e.what());
                }
                _exit(1);
            }
            workers[pid] = id;
        }

        std::this_thread::sleep_for(std::chrono::milliseconds(100));   // let them work a little
        std::printf("main: simulating Ctrl-C with kill(getpid(), SIGINT)\n");
        std::fflush(stdout);
        check(::kill(::getpid(), SIGINT), "kill");
        siginfo_t info{};
        timespec one_s{1, 0};   // bounded, though the signal is already pending
        int sig = check(::sigtimedwait(&stop_signals, &info, &one_s), "sigtimedwait");
        std::printf("main: got SIG%s from %s; asking %zu workers to stop with SIGTERM\n",
                    ::sigabbrev_np(sig), info.si_pid == ::getpid() ? "itself" : "another process",
                    workers.size());
        std::fflush(stdout);
        auto started = Clock::now();
        for (auto& [pid, id] : workers) if (pid > 0) check(::kill(pid, SIGTERM), "kill");
        bool killed_any = false;
        int clean = reap_all(workers, killed_any);

        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        std::printf("main: all workers reaped; %d of %d exited with code 0\n", clean, kWorkers);
        std::printf("main: graceful shutdown took %lld ms, SIGKILL needed: %s\n",
                    static_cast<long long>(ms.count()), killed_any ? "yes" : "no");
        bool ok = clean == kWorkers && !killed_any;
        std::printf("%s\n", ok ? "ok: every worker stopped cleanly on request"
                               : "FAIL: shutdown was not graceful");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {   // ~Workers has killed and reaped the workers
        std::fflush(stdout);
        std::fprintf(stderr, "graceful_workers: %s\n", e.what());
        return 1;
    }
}
