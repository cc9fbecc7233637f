// supervisor.cpp — health checks through heartbeats in shared memory; restarts
// with exponential back-off; gives up after 3 failures.
// Each worker stamps the time into its slot of a shared mapping every 20 ms. A
// crash shows in waitpid(); a hang as a heartbeat older than 1000 ms (the worker
// is alive but useless, so it is killed). Restarts come after 50, 100, 200 ms.
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
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
using Ms = std::chrono::milliseconds;
constexpr Ms kHungAfter = 1000ms;   // 50 heartbeats: a busy machine can starve a process for 350 ms
constexpr Ms kFirstBackoff = 50ms;
constexpr int kMaxFailures = 3;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// ANCHOR: slots
/// One heartbeat per worker, in a MAP_SHARED mapping made before fork(). A
/// lock-free atomic is address-free: it works wherever the page is mapped.
using Beat = std::atomic<std::int64_t>;
static_assert(Beat::is_always_lock_free);

struct Heartbeats {
    explicit Heartbeats(size_t n) : size(n * sizeof(Beat)) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        beats = static_cast<Beat*>(p);
        for (size_t i = 0; i < n; ++i) new (&beats[i]) Beat(now_ns());
    }
    Heartbeats(const Heartbeats&) = delete;
    ~Heartbeats() { ::munmap(beats, size); }
    size_t size;
    Beat* beats;
};
// ANCHOR_END: slots

// ANCHOR: worker
enum class Behaviour { Steady, CrashesTwice, Hangs };

/// A worker's life: beat, then misbehave according to its kind.
[[noreturn]] void worker_main(Behaviour kind, int incarnation, Beat& beat) {
    ::prctl(PR_SET_DUMPABLE, 0);   // our deliberate crashes leave no core files
    bool misbehave = kind == Behaviour::Hangs || (kind == Behaviour::CrashesTwice && incarnation <= 2);
    for (int i = 0; i < (misbehave ? 3 : 15); ++i) {
        beat.store(now_ns());
        std::this_thread::sleep_for(20ms);
    }
    if (!misbehave) _exit(0);                       // finished its job
    if (kind == Behaviour::CrashesTwice) std::abort();   // dies with SIGABRT
    std::this_thread::sleep_for(10s);               // alive, but no more beats
    _exit(0);
}
// ANCHOR_END: worker

struct Worker {
    const char* name;
    Behaviour kind;
    enum State { Running, Waiting, Finished, GaveUp } state = Waiting;
    pid_t pid = -1;
    int incarnations = 0, failures = 0;
    Clock::time_point restart_at{};
};

// ANCHOR: supervisor
class Supervisor {
public:
    explicit Supervisor(std::vector<Worker> w) : workers_(std::move(w)), hb_(workers_.size()) {}
    Supervisor(const Supervisor&) = delete;
    ~Supervisor() {   // whatever happens, no worker outlives us
        for (auto& w : workers_)
            if (w.state == Worker::Running && ::kill(w.pid, SIGKILL) == 0) ::waitpid(w.pid, nullptr, 0);
    }

    /// Every 10 ms: reap the dead, kill the hung, restart those whose back-off is over.
    void run() {
        for (;;) {
            bool busy = false;
            for (size_t i = 0; i < workers_.size(); ++i) {
                Worker& w = workers_[i];
                if (w.state == Worker::Waiting && Clock::now() >= w.restart_at) start(i);
                if (w.state == Worker::Running) watch(i);
                busy = busy || w.state == Worker::Running || w.state == Worker::Waiting;
            }
            if (!busy) return;
            std::this_thread::sleep_for(10ms);
        }
    }
    const std::vector<Worker>& workers() const { return workers_; }

private:
    void start(size_t i) {
        Worker& w = workers_[i];
        hb_.beats[i].store(now_ns());   // a fresh worker gets a full grace period
        ++w.incarnations;
        std::fflush(stdout);
        w.pid = check(::fork(), "fork");
        if (w.pid == 0) {   // the child ends here, whatever happens: never in main's code
            try { worker_main(w.kind, w.incarnations, hb_.beats[i]); } catch (...) {}
            _exit(1);
        }
        w.state = Worker::Running;
        log(w, "started");
    }

    void watch(size_t i) {
        Worker& w = workers_[i];
        int status = 0;
        if (check(::waitpid(w.pid, &status, WNOHANG), "waitpid") != 0) {   // crashed or done
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                w.state = Worker::Finished;
                log(w, "finished its work");
            } else {
                failed(w, WIFSIGNALED(status) ? std::string("crashed (SIG") + ::sigabbrev_np(WTERMSIG(status)) + ")"
                                              : "exited with code " + std::to_string(WEXITSTATUS(status)));
            }
        } else if (now_ns() - hb_.beats[i].load() > std::chrono::nanoseconds(kHungAfter).count()) {
            check(::kill(w.pid, SIGKILL), "kill");   // alive is not healthy: no progress
            check(::waitpid(w.pid, nullptr, 0), "waitpid");
            failed(w, "hung (no heartbeat for " + std::to_string(kHungAfter.count()) + " ms), killed");
        }
    }

    void failed(Worker& w, const std::string& how) {
        std::string what = how + ", failure " + std::to_string(++w.failures);
        if (w.failures >= kMaxFailures) {
            w.state = Worker::GaveUp;
            return log(w, what + ": giving up");
        }
        Ms backoff = kFirstBackoff * (1 << (w.failures - 1));   // 50, 100, 200 ms ...
        w.state = Worker::Waiting;
        w.restart_at = Clock::now() + backoff;
        log(w, what + ": restart in " + std::to_string(backoff.count()) + " ms");
    }

    void log(const Worker& w, const std::string& what) {
        auto ms = std::chrono::duration_cast<Ms>(Clock::now() - t0_).count();
        std::printf("  [%4lld ms] %s #%d %s\n", static_cast<long long>(ms), w.name, w.incarnations, what.c_str());
    }

    std::vector<Worker> workers_;
    Heartbeats hb_;
    Clock::time_point t0_ = Clock::now();
};
// ANCHOR_END: supervisor

}  // namespace

// ANCHOR: main
int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: supervisor (takes no arguments)\n");
        return 2;
    }
    try {
        std::printf("supervising 3 workers: heartbeat every 20 ms, hung after 1000 ms, "
                    "back-off from 50 ms, give up after 3 failures\n");
        Supervisor sup({{"steady", Behaviour::Steady}, {"crasher", Behaviour::CrashesTwice}, {"hanger", Behaviour::Hangs}});
        sup.run();
        std::printf("summary:\n");
        const char* states[] = {"running", "waiting", "finished", "gave up"};
        for (const auto& w : sup.workers())
            std::printf("  %-7s %d incarnation(s), %d failure(s), %s\n", w.name, w.incarnations, w.failures,
                        states[w.state]);
        const auto& ws = sup.workers();
        bool ok = ws[0].state == Worker::Finished && ws[0].failures == 0 && ws[1].state == Worker::Finished &&
                  ws[1].failures == 2 && ws[2].state == Worker::GaveUp && ws[2].failures == kMaxFailures;
        std::printf("%s\n", ok ? "ok: the crashed worker was restarted until it succeeded; "
                                 "the hung one was killed and, after 3 failures, given up"
                               : "FAIL: supervision did not go as planned");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {   // ~Supervisor has killed and reaped every worker
        std::fflush(stdout);
        std::fprintf(stderr, "supervisor: %s\n", e.what());
        return 1;
    }
}
// ANCHOR_END: main
