// supervisor_heartbeat.cpp - alive is not healthy: each worker stamps the time into
// its slot of a shared mapping every 20 ms; a worker whose stamp is older than
// 1000 ms is alive but stuck, so the supervisor kills it.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <system_error>
#include <thread>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kHungAfter = 1000ms;  // 50 beats: a busy machine can starve a process for 350 ms

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// A lock-free atomic is address-free: it works wherever its page is mapped.
using Beat = std::atomic<Clock::rep>;
static_assert(Beat::is_always_lock_free);
Clock::rep now() { return Clock::now().time_since_epoch().count(); }

struct Heartbeats {  // one slot per worker, MAP_SHARED and made before fork()
    explicit Heartbeats(std::size_t n) : size(n * sizeof(Beat)) {
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        slot = static_cast<Beat*>(p);
        for (std::size_t i = 0; i < n; ++i) new (&slot[i]) Beat(now());  // a grace period
    }
    Heartbeats(const Heartbeats&) = delete;
    ~Heartbeats() { ::munmap(slot, size); }
    std::size_t size;
    Beat* slot;
};
// A worker beats `beats` times, 20 ms apart, then finishes (or, if `hangs`, stops beating).
[[noreturn]] void worker(Beat& beat, int beats, bool hangs) {
    for (int i = 0; i < beats; ++i, std::this_thread::sleep_for(20ms)) beat.store(now());
    if (hangs) std::this_thread::sleep_for(10s);  // alive, but no progress: stuck
    _exit(0);
}

int run() {
    const char* names[] = {"steady", "hanger"};
    Heartbeats hb(2);
    std::deque<Child> kids;  // a deque: a Child never moves
    for (int i = 0; i < 2; ++i) {
        std::fflush(stdout);
        kids.emplace_back(check(::fork(), "fork"));
        if (kids[i].pid == 0) {  // the child ends here, whatever happens
            try { worker(hb.slot[i], i == 0 ? 15 : 3, i == 1); } catch (...) {}
            _exit(1);
        }
    }
    int finished = 0, killed = 0;
    for (int left = 2; left > 0; std::this_thread::sleep_for(10ms)) {
        for (int i = 0; i < 2; ++i) {
            int status = 0;
            if (kids[i].pid <= 0) continue;
            if (check(::waitpid(kids[i].pid, &status, WNOHANG), "waitpid") > 0) {  // ended by itself
                std::printf("  %s finished, exit status %d\n", names[i], WEXITSTATUS(status));
                finished += WIFEXITED(status) && WEXITSTATUS(status) == 0;
            } else if (Clock::duration(now() - hb.slot[i].load()) > kHungAfter) {  // alive, stuck
                check(::kill(kids[i].pid, SIGKILL), "kill");
                check(::waitpid(kids[i].pid, nullptr, 0), "waitpid");  // SIGKILL: it ends now
                std::printf("  %s hung (no heartbeat for 1000 ms): killed\n", names[i]);
                ++killed;
            } else continue;
            kids[i].pid = -1;  // reaped: the pid may soon be someone else's
            --left;
        }
    }
    std::printf("%d finished, %d killed (expected 1 and 1)\n", finished, killed);
    return finished == 1 && killed == 1 ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {  // the Child owners have killed and reaped the workers
        std::fflush(stdout);
        std::fprintf(stderr, "supervisor_heartbeat: %s\n", e.what());
        return 1;
    }
}
