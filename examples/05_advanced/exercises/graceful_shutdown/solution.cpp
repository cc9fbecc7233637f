// graceful_shutdown (exercise, reference solution) - a supervisor starts WORKERS
// workers and is told to stop at the worst moment: at once, while they may still be
// starting. Each worker gets SIGTERM, ends the unit of work in hand and exits 0; the
// supervisor reaps every one within a deadline. Python: signal.signal(SIGTERM, handler)
// in each worker, then Process.terminate() and Process.join(timeout) on each.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace {

constexpr int kDeadlineMs = 5000;  // then SIGKILL

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Worker { pid_t pid = -1; bool reaped = false; int status = 0; };
struct Workers : std::vector<Worker> {  // if we leave early, each worker is killed and reaped
    using std::vector<Worker>::vector;
    ~Workers() {
        for (Worker& w : *this)
            if (w.pid > 0 && !w.reaped && ::kill(w.pid, SIGKILL) == 0) ::waitpid(w.pid, nullptr, 0);
    }
};

sigset_t only_sigterm() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    return set;
}

volatile sig_atomic_t g_stop = 0;
void on_sigterm(int) { g_stop = 1; }  // only sets a flag: async-signal-safe

int work(int id) {  // the worker: units of 5 ms until asked to stop
    struct sigaction sa{};
    sa.sa_handler = on_sigterm;
    check(::sigaction(SIGTERM, &sa, nullptr), "sigaction");
    // Blocked since birth: a SIGTERM sent before this line waited; it arrives now, handled.
    const sigset_t term = only_sigterm();
    check(::sigprocmask(SIG_UNBLOCK, &term, nullptr), "sigprocmask");
    int units = 0;
    for (; !g_stop; ++units) ::usleep(5000);  // a unit of work; SIGTERM cuts it short
    std::printf("worker %d: SIGTERM received; units of work done: %d\n", id, units);
    std::fflush(stdout);
    return 0;
}

void reap_all(Workers& workers) {  // waits kDeadlineMs at most, then SIGKILL
    for (int ms = 0;; ++ms) {
        bool all = true;
        for (Worker& w : workers) {
            if (!w.reaped) w.reaped = check(::waitpid(w.pid, &w.status, WNOHANG), "waitpid") == w.pid;
            all = all && w.reaped;
        }
        if (all) return;
        if (ms == kDeadlineMs)
            for (Worker& w : workers) if (!w.reaped) ::kill(w.pid, SIGKILL);
        ::usleep(1000);
    }
}

bool report(int id, const Worker& w) {  // true: it ended cleanly
    const int s = w.status;
    if (!w.reaped) std::printf("main: worker %d was never reaped\n", id);
    else if (WIFEXITED(s)) std::printf("main: worker %d exited with status %d\n", id, WEXITSTATUS(s));
    else std::printf("main: worker %d killed by signal %d\n", id, WTERMSIG(s));
    return w.reaped && WIFEXITED(s) && WEXITSTATUS(s) == 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    const int n = argc == 2 ? std::atoi(argv[1]) : 0;
    if (argc != 2 || n < 1 || n > 9) {
        std::fprintf(stderr, "usage: %s WORKERS (1 to 9)\n", argv[0]);
        return 2;
    }
    try {
        const sigset_t term = only_sigterm();  // blocked here, so blocked in each worker from birth
        check(::sigprocmask(SIG_BLOCK, &term, nullptr), "sigprocmask");
        std::printf("main: starting %d workers\n", n);
        std::fflush(stdout);  // the workers must not inherit unprinted output
        Workers workers(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            workers[i].pid = check(::fork(), "fork");
            if (workers[i].pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = work(i + 1); } catch (...) {}
                _exit(code);
            }
        }
        std::printf("main: stopping them at once: SIGTERM to each\n");
        std::fflush(stdout);
        for (Worker& w : workers) check(::kill(w.pid, SIGTERM), "kill");
        reap_all(workers);
        int clean = 0;
        for (int i = 0; i < n; ++i) clean += report(i + 1, workers[i]);
        std::printf("main: %d of %d workers stopped cleanly\n", clean, n);
        return clean == n ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "graceful_shutdown: %s\n", e.what());
        return 1;
    }
}
