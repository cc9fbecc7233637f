// locks_broken.cpp — broken on purpose: several processes increment one counter
// in MAP_SHARED memory without a lock, and updates are lost.
//
// Python: four Process objects doing `shared.value += 1` on a Value(lock=False).
#include <sys/mman.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <vector>

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 5000;  // per worker

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// The memory all processes see: the counter plus a start gate.
struct SharedState {
    std::atomic<long> counter{0};
    std::atomic<int> ready{0};  // how many workers reached the gate
};

/// Owns an anonymous MAP_SHARED mapping holding one SharedState. A mapping made
/// before fork() is the same physical memory in parent and children.
class SharedMapping {
public:
    SharedMapping() {
        void* p = mmap(nullptr, sizeof(SharedState), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        state_ = new (p) SharedState{};
    }
    ~SharedMapping() {
        state_->~SharedState();
        munmap(state_, sizeof(SharedState));
    }
    SharedMapping(const SharedMapping&) = delete;
    SharedMapping& operator=(const SharedMapping&) = delete;
    SharedState& operator*() const { return *state_; }

private:
    SharedState* state_;
};

/// `counter += 1` written out as the three steps it really is. Each step is
/// atomic on its own (so this is not undefined behaviour), but the sequence is
/// not: another process can write between our read and our write.
void unsafe_increment(std::atomic<long>& counter) {
    long value = counter.load(std::memory_order_relaxed);  // 1. read
    sched_yield();  // widen the window: let another process run right here
    counter.store(value + 1, std::memory_order_relaxed);  // 2+3. add, write
}

void worker(SharedState& s) {
    // Wait until every worker exists, so that they really run at the same time.
    s.ready.fetch_add(1);
    while (s.ready.load() < kWorkers) sched_yield();
    for (long i = 0; i < kIncrements; ++i) unsafe_increment(s.counter);
}

/// Runs the workers in child processes and waits for all of them.
void run_workers(SharedState& s) {
    std::vector<pid_t> children;
    for (int i = 0; i < kWorkers; ++i) {
        std::cout.flush();  // or buffered text would be printed twice
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            worker(s);
            std::exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        check(waitpid(pid, &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::cerr << "worker " << pid << " failed\n";
            std::exit(1);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedMapping shared;
    run_workers(*shared);

    const long expected = kWorkers * kIncrements;
    const long counter = (*shared).counter.load();
    std::cout << kWorkers << " processes x " << kIncrements << " increments, no lock\n";
    std::cout << "counter = " << counter << " (expected " << expected << ")\n";
    std::cout << "lost updates: " << expected - counter << '\n';
    if (counter < expected) {
        std::cout
            << "the race happened: read-modify-write without a lock loses updates\n";
        return 0;
    }
    std::cout << "no update was lost this time (the race is still there)\n";
    return 1;  // our claim is "this goes wrong": it did not show
}
