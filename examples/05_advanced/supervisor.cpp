// supervisor.cpp — health checks through heartbeats in shared memory; restarts
// with exponential back-off; gives up after N failures.
//
// Each worker stamps the time into its slot of a shared mapping every 20 ms.
// The supervisor notices two kinds of failure: a crash (waitpid reports a
// signal or a non-zero exit) and a hang (the heartbeat is older than 1000 ms:
// the process is alive but useless, so it is killed). A failed worker is
// restarted after 50, 100, 200 ms ...; after 3 failures the supervisor gives up.
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

constexpr Ms kBeatEvery = 20ms;
constexpr Ms kHungAfter = 1000ms;  // 50 heartbeats: a busy machine can starve a process for 350 ms
constexpr Ms kFirstBackoff = 50ms;
constexpr int kMaxFailures = 3;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// One worker's heartbeat. Lock-free atomics are address-free, so they work
/// in memory shared between processes.
struct Slot {
    std::atomic<std::int64_t> last_beat_ns;
};
static_assert(std::atomic<std::int64_t>::is_always_lock_free);

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

/// An anonymous shared mapping, created before fork() so every worker sees it.
class SharedSlots {
public:
    explicit SharedSlots(size_t n) : size_(n * sizeof(Slot)) {
        void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        slots_ = static_cast<Slot*>(p);
        for (size_t i = 0; i < n; ++i) new (&slots_[i]) Slot{};
    }
    ~SharedSlots() { ::munmap(slots_, size_); }
    SharedSlots(const SharedSlots&) = delete;
    SharedSlots& operator=(const SharedSlots&) = delete;
    Slot& operator[](size_t i) { return slots_[i]; }
private:
    size_t size_;
    Slot* slots_;
};

// ------------------------------------------------------------ the workers
enum class Behaviour { Steady, CrashesTwice, Hangs };

/// A worker's life: beat `beats` times, then misbehave according to its kind.
[[noreturn]] void worker_main(Behaviour kind, int incarnation, Slot& slot) {
    ::prctl(PR_SET_DUMPABLE, 0);   // our deliberate crashes leave no core files
    auto beat = [&] {
        slot.last_beat_ns.store(now_ns());
        std::this_thread::sleep_for(kBeatEvery);
    };
    bool misbehave = kind == Behaviour::Hangs || (kind == Behaviour::CrashesTwice && incarnation <= 2);
    for (int i = 0; i < (misbehave ? 3 : 15); ++i) beat();
    if (!misbehave) std::_Exit(0);                        // finished its job
    if (kind == Behaviour::CrashesTwice) std::abort();    // dies with SIGABRT
    std::this_thread::sleep_for(10s);                     // alive, but no more beats
    std::_Exit(0);
}

// ------------------------------------------------------------ the supervisor
struct Worker {
    const char* name;
    Behaviour kind;
    enum State { Running, Waiting, Finished, GaveUp } state = Waiting;
    pid_t pid = -1;
    int incarnations = 0, failures = 0;
    Clock::time_point restart_at{};
};

class Supervisor {
public:
    Supervisor(std::vector<Worker> workers) : workers_(std::move(workers)), slots_(workers_.size()) {}
    ~Supervisor() {   // whatever happens, no child outlives us
        for (auto& w : workers_)
            if (w.state == Worker::Running) { ::kill(w.pid, SIGKILL); ::waitpid(w.pid, nullptr, 0); }
    }
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    /// Runs until every worker has finished or been given up on.
    void run() {
        for (size_t i = 0; i < workers_.size(); ++i) start(i);
        while (!all_settled()) {
            std::this_thread::sleep_for(10ms);
            reap_exited();
            kill_hung();
            restart_due();
        }
    }
    const std::vector<Worker>& workers() const { return workers_; }

private:
    void log(const char* fmt, const Worker& w, const std::string& detail) {
        auto ms = std::chrono::duration_cast<Ms>(Clock::now() - t0_).count();
        std::printf("  [%4lld ms] ", static_cast<long long>(ms));
        std::printf(fmt, w.name, w.incarnations, detail.c_str());
        std::printf("\n");
    }

    void start(size_t i) {
        Worker& w = workers_[i];
        slots_[i].last_beat_ns.store(now_ns());   // a fresh worker gets a full grace period
        ++w.incarnations;
        std::fflush(stdout);
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the child ends here, whatever happens: never in main's code
            try { worker_main(w.kind, w.incarnations, slots_[i]); } catch (...) {}
            _exit(1);
        }
        w.pid = pid;
        w.state = Worker::Running;
        log("%s #%d started%s", w, "");
    }

    void failed(Worker& w, const std::string& how) {
        ++w.failures;
        if (w.failures >= kMaxFailures) {
            w.state = Worker::GaveUp;
            log("%s #%d %s: giving up", w, how + ", failure " + std::to_string(w.failures));
            return;
        }
        Ms backoff = kFirstBackoff * (1 << (w.failures - 1));   // 50, 100, 200 ms ...
        w.state = Worker::Waiting;
        w.restart_at = Clock::now() + backoff;
        log("%s #%d %s", w, how + ", failure " + std::to_string(w.failures) + ": restart in " +
                                std::to_string(backoff.count()) + " ms");
    }

    /// Crash detection: the kernel tells us through waitpid().
    void reap_exited() {
        for (auto& w : workers_) {
            if (w.state != Worker::Running) continue;
            int status = 0;
            pid_t r = ::waitpid(w.pid, &status, WNOHANG);
            if (r == 0) continue;
            check(r, "waitpid");
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                w.state = Worker::Finished;
                log("%s #%d finished its work%s", w, "");
            } else if (WIFSIGNALED(status)) {
                failed(w, std::string("crashed (SIG") + ::sigabbrev_np(WTERMSIG(status)) + ")");
            } else {
                failed(w, "exited with code " + std::to_string(WEXITSTATUS(status)));
            }
        }
    }

    /// Hang detection: alive is not the same as healthy. A stale heartbeat
    /// means the worker makes no progress, so we kill it and count a failure.
    void kill_hung() {
        for (size_t i = 0; i < workers_.size(); ++i) {
            Worker& w = workers_[i];
            if (w.state != Worker::Running) continue;
            auto silent = std::chrono::nanoseconds(now_ns() - slots_[i].last_beat_ns.load());
            if (silent <= kHungAfter) continue;
            check(::kill(w.pid, SIGKILL), "kill");
            check(::waitpid(w.pid, nullptr, 0), "waitpid");
            failed(w, "hung (no heartbeat for " + std::to_string(kHungAfter.count()) + " ms), killed");
        }
    }

    void restart_due() {
        for (size_t i = 0; i < workers_.size(); ++i)
            if (workers_[i].state == Worker::Waiting && Clock::now() >= workers_[i].restart_at) start(i);
    }

    bool all_settled() const {
        for (const auto& w : workers_)
            if (w.state == Worker::Running || w.state == Worker::Waiting) return false;
        return true;
    }

    std::vector<Worker> workers_;
    SharedSlots slots_;
    Clock::time_point t0_ = Clock::now();
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: supervisor (takes no arguments)\n");
        return 2;
    }
    try {
    std::printf("supervising 3 workers: heartbeat every 20 ms, hung after 1000 ms, "
                "back-off from 50 ms, give up after 3 failures\n");
    Supervisor sup({{"steady", Behaviour::Steady}, {"crasher", Behaviour::CrashesTwice},
                    {"hanger", Behaviour::Hangs}});
    sup.run();

    std::printf("summary:\n");
    const char* states[] = {"running", "waiting", "finished", "gave up"};
    for (const auto& w : sup.workers())
        std::printf("  %-7s %d incarnation(s), %d failure(s), %s\n", w.name, w.incarnations, w.failures,
                    states[w.state]);
    const auto& ws = sup.workers();
    bool ok = ws[0].state == Worker::Finished && ws[0].failures == 0 &&
              ws[1].state == Worker::Finished && ws[1].failures == 2 &&
              ws[2].state == Worker::GaveUp && ws[2].failures == kMaxFailures;
    std::printf("%s\n", ok ? "ok: the crashed worker was restarted until it succeeded; "
                             "the hung one was killed and, after 3 failures, given up"
                           : "FAIL: supervision did not go as planned");
    return ok ? 0 : 1;
    } catch (const std::exception& e) {  // ~Supervisor has killed and reaped every worker
        std::fflush(stdout);
        std::fprintf(stderr, "supervisor: %s\n", e.what());
        return 1;
    }
}
