// locks_broken.cpp - broken on purpose: four processes increment one counter in
// MAP_SHARED memory without a lock, and updates are lost.
// Python: four Process objects doing `shared.value += 1` on a Value(lock=False).
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <new>
#include <system_error>

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 1000;  // per worker

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// In memory two processes share, an atomic must be lock-free: a library lock is per process.
static_assert(std::atomic<long>::is_always_lock_free && std::atomic<int>::is_always_lock_free);
struct Shared {  // built in a MAP_SHARED mapping before fork()
    std::atomic<long> counter{0};
    std::atomic<int> ready{0};  // start gate: all workers run at the same time
};

// `counter += 1` written out as the steps it really is. Each step is atomic on
// its own (so this is not undefined behaviour), but the sequence is not.
void unsafe_increment(std::atomic<long>& counter) {
    const long value = counter.load(std::memory_order_relaxed);  // 1. read
    // 2. spin ~20 us: another process writes in this window; its update is lost
    const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < end) {}
    counter.store(value + 1, std::memory_order_relaxed);  // 3. write value + 1
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(Shared)); } } unmap{p};
        Shared& s = *new (p) Shared{};
        std::cout << kWorkers << " processes x " << kIncrements << " increments, no lock\n";
        Child workers[kWorkers];  // if a fork fails, the started ones are killed
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here; it only touches shared memory
                s.ready.fetch_add(1);
                while (s.ready.load() < kWorkers) ::sched_yield();
                for (long i = 0; i < kIncrements; ++i) unsafe_increment(s.counter);
                _exit(0);
            }
        }
        for (Child& w : workers) {  // each worker ends by itself
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                throw std::runtime_error("a worker failed");
        }
        const long counter = s.counter.load(), expected = kWorkers * kIncrements;
        std::cout << "counter = " << counter << " (expected " << expected << "), "
                  << (counter < expected  // else: not our failure, just no interleaving
                          ? "updates lost: read-modify-write without a lock is a race\n"
                          : "none lost this time, but read, add and write are three steps\n");
        return counter <= expected ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "locks_broken: " << e.what() << '\n';
        return 1;
    }
}
