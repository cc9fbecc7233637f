// atomic_counter.cpp - locks_broken.cpp fixed without a lock: std::atomic<long>::fetch_add
// is one indivisible read-modify-write, and a lock-free atomic works between processes.
// Python: Value('l') with get_lock() around `+= 1` (Python has no atomic increment).
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

constexpr int kWorkers = 4;
constexpr long kIncrements = 1000;  // per worker, as in locks_broken.cpp

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// A lock-free atomic is one instruction on the object's own bytes, whatever
// address each process maps it at ("address-free"). A non-lock-free one would
// hide a lock inside the C++ library, private to each process: useless here.
static_assert(std::atomic<long>::is_always_lock_free);

struct Shared {  // built in a MAP_SHARED mapping before fork()
    std::atomic<long> counter{0};
    std::atomic<int> ready{0};  // start gate: all workers run at the same time
};

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
        std::cout << std::boolalpha << "std::atomic<long>::is_always_lock_free = "
                  << std::atomic<long>::is_always_lock_free << '\n';

        Child workers[kWorkers];  // if a fork fails, the started ones are killed
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here; it only touches shared memory
                s.ready.fetch_add(1);
                while (s.ready.load() < kWorkers) ::sched_yield();
                for (long i = 0; i < kIncrements; ++i)
                    s.counter.fetch_add(1, std::memory_order_relaxed);  // read+add+write, one step
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
        std::cout << kWorkers << " processes x " << kIncrements << " fetch_add: counter = "
                  << counter << " (expected " << expected << ")"
                  << (counter == expected ? ": no lost updates\n" : ": UPDATES LOST\n");
        return counter == expected ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "atomic_counter: " << e.what() << '\n';
        return 1;
    }
}
