// supervisor.cpp - restart a crashed worker after a growing pause (50, 100 ms ...),
// and give up on one that fails 3 times: a worker that cannot even start (a
// missing file, a bad configuration) would otherwise be re-forked for ever.
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kFirstBackoff = 50ms;
constexpr int kMaxFailures = 3;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Two kinds of child body; each ends with _exit. `start` counts from 1.
[[noreturn]] void crashes_twice(int start) {
    ::prctl(PR_SET_DUMPABLE, 0);  // our deliberate crashes leave no core files
    std::this_thread::sleep_for(60ms);  // some work
    if (start <= 2) std::abort();       // dies with SIGABRT, twice
    _exit(0);
}
[[noreturn]] void fails_at_start(int) { _exit(1); }  // say, its configuration is missing

struct Worker {
    const char* name;
    void (*body)(int start);
    enum State { Running, Waiting, Finished, GaveUp } state = Waiting;
    pid_t pid = -1;
    int starts = 0, failures = 0;
    Clock::time_point restart_at{};  // when a Waiting worker may start again
};

class Supervisor {
public:
    explicit Supervisor(std::vector<Worker> w) : workers(std::move(w)) {}
    Supervisor(const Supervisor&) = delete;  // one owner per child
    ~Supervisor() {  // whatever happens, no worker outlives us
        for (Worker& w : workers)
            if (w.state == Worker::Running && ::kill(w.pid, SIGKILL) == 0) ::waitpid(w.pid, nullptr, 0);
    }
    void run() {  // every 10 ms: reap the dead, start those whose pause is over
        for (bool busy = true; busy; std::this_thread::sleep_for(10ms)) {
            busy = false;
            for (Worker& w : workers) {
                if (w.state == Worker::Waiting && Clock::now() >= w.restart_at) start(w);
                int status = 0;  // WNOHANG: never wait on one worker while another needs us
                if (w.state == Worker::Running && check(::waitpid(w.pid, &status, WNOHANG), "waitpid") > 0)
                    ended(w, status);
                busy = busy || w.state == Worker::Running || w.state == Worker::Waiting;
            }
        }
    }
    std::vector<Worker> workers;

private:
    void start(Worker& w) {
        ++w.starts;
        std::fflush(stdout);
        w.pid = check(::fork(), "fork");
        if (w.pid == 0) {  // the child ends here, whatever happens: never in main's code
            try { w.body(w.starts); } catch (...) {}
            _exit(1);
        }
        w.state = Worker::Running;
        log(w, "started");
    }
    void ended(Worker& w, int status) {
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return w.state = Worker::Finished, log(w, "finished");
        const std::string how = WIFSIGNALED(status) ? std::string("crashed (SIG") + ::sigabbrev_np(WTERMSIG(status)) + ")"
                                                    : "exited with code " + std::to_string(WEXITSTATUS(status));
        if (++w.failures >= kMaxFailures) return w.state = Worker::GaveUp, log(w, how + ": giving up");
        const auto pause = kFirstBackoff * (1 << (w.failures - 1));  // 50, 100, 200 ms ...
        w.state = Worker::Waiting;
        w.restart_at = Clock::now() + pause;
        log(w, how + ": restart in " + std::to_string(pause.count()) + " ms");
    }
    void log(const Worker& w, const std::string& what) { std::printf("  %s #%d %s\n", w.name, w.starts, what.c_str()); }
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: supervisor (takes no arguments)\n");
        return 2;
    }
    try {
        std::printf("back-off from 50 ms, give up after %d failures\n", kMaxFailures);
        Supervisor sup({{"crasher", crashes_twice}, {"broken", fails_at_start}});
        sup.run();
        const Worker &crasher = sup.workers[0], &broken = sup.workers[1];  // the claim, checked
        const bool ok = crasher.state == Worker::Finished && crasher.starts == 3 &&
                        broken.state == Worker::GaveUp && broken.starts == kMaxFailures;
        std::printf("%s\n", ok ? "ok: crasher finished at its 3rd start; broken was given up after 3"
                                : "FAIL: supervision did not go as planned");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // ~Supervisor has killed and reaped every worker
        std::fflush(stdout);
        std::fprintf(stderr, "supervisor: %s\n", e.what());
        return 1;
    }
}
