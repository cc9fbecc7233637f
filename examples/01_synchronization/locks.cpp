// locks.cpp - the counter of locks_broken.cpp, fixed twice:
//   1. a pthread mutex marked PTHREAD_PROCESS_SHARED, in the shared memory;
//   2. std::atomic<long>::fetch_add, one indivisible lock-free instruction.
// Python: multiprocessing.Lock() around `value += 1`, or Value('l').get_lock().
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 1000;  // per worker, as in locks_broken.cpp

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// ANCHOR: shared
// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// A lock-free atomic is one instruction on the object's own bytes, whatever
// address each process maps it at ("address-free"). A non-lock-free one would
// hide a lock inside the C++ library, private to each process: useless here.
static_assert(std::atomic<long>::is_always_lock_free);

struct Shared {  // built in a MAP_SHARED mapping before fork()
    pthread_mutex_t mutex;
    long counter = 0;  // guarded by mutex
    std::atomic<long> atomic_counter{0};
    std::atomic<int> ready{0};  // start gate

    Shared() {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        // Without this, glibc uses private futexes: a waiter in another process
        // is never woken (mutex_private_broken shows it).
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        check_pt(pthread_mutex_init(&mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~Shared() { pthread_mutex_destroy(&mutex); }
};

// Spins ~20 us between read and write, so another process runs in that window.
// (Not sched_yield(): on a loaded machine one yield can cost a whole time slice.)
void widen_window() {
    const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
    while (std::chrono::steady_clock::now() < end) {}
}

void increment_with_mutex(Shared& s) {
#ifndef BREAK_NO_LOCK  // "Break it" on the page: build with -DBREAK_NO_LOCK
    check_pt(pthread_mutex_lock(&s.mutex), "pthread_mutex_lock");
#endif
    const long value = s.counter;
    widen_window();  // the same wide window as in the broken version: now harmless
    s.counter = value + 1;
#ifndef BREAK_NO_LOCK
    check_pt(pthread_mutex_unlock(&s.mutex), "pthread_mutex_unlock");
#endif
}

void increment_atomically(Shared& s) {
    s.atomic_counter.fetch_add(1, std::memory_order_relaxed);  // one indivisible step
}
// ANCHOR_END: shared

// ANCHOR: workers
// kWorkers processes each call step() kIncrements times, all starting together.
void run_workers(Shared& s, void (*step)(Shared&)) {
    s.ready = 0;
    Child workers[kWorkers];  // if a fork fails, the started ones are killed
    for (Child& w : workers) {
        std::cout.flush();  // else the child prints our buffer again
        w.pid = check(::fork(), "fork");
        if (w.pid == 0) {  // the worker ends here, whatever happens
            int code = 1;
            try {
                s.ready.fetch_add(1);
                while (s.ready.load() < kWorkers) ::sched_yield();
                for (long n = 0; n < kIncrements; ++n) step(s);
                code = 0;
            } catch (...) {}
            _exit(code);
        }
    }
    for (Child& w : workers) {  // each worker ends by itself
        int status = 0;
        check(::waitpid(w.pid, &status, 0), "waitpid");
        w.pid = -1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("a worker failed");
    }
}
// ANCHOR_END: workers

bool report(const char* how, long counter, long expected) {
    std::cout << how << ": counter = " << counter << " (expected " << expected << ")"
              << (counter == expected ? ": no lost updates\n" : ": UPDATES LOST\n");
    return counter == expected;
}

}  // namespace

// ANCHOR: main
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
        struct Destroy { Shared& s; ~Destroy() { s.~Shared(); } } destroy{s};

        const long expected = kWorkers * kIncrements;
        std::cout << kWorkers << " processes x " << kIncrements << " increments\n"
                  << std::boolalpha << "std::atomic<long>::is_always_lock_free = "
                  << std::atomic<long>::is_always_lock_free << '\n';
        run_workers(s, increment_with_mutex);
        bool ok = report("process-shared mutex", s.counter, expected);
        run_workers(s, increment_atomically);
        ok = report("std::atomic fetch_add", s.atomic_counter.load(), expected) && ok;
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "locks: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
