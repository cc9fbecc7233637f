// locks.cpp — the counter from locks_broken.cpp, fixed twice:
//   1. with a pthread mutex marked PTHREAD_PROCESS_SHARED, living in the shared memory;
//   2. with std::atomic<long>::fetch_add, a single lock-free instruction.
//
// Python: multiprocessing.Lock() around `value += 1`, or Value('l').get_lock().
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <vector>

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 5000;  // per worker, as in locks_broken.cpp

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// pthread functions return the error number instead of setting errno.
void check_pt(int err, const char* what) {
    if (err != 0) {
        errno = err;
        die(what);
    }
}

// Why std::atomic works between processes: a lock-free atomic is one machine
// instruction on the object's own bytes, so it does not matter at which address
// each process has mapped it ("address-free"). A non-lock-free atomic would hide
// a lock inside the C++ library, private to each process — useless here.
static_assert(std::atomic<long>::is_always_lock_free,
              "cross-process atomics must be lock-free");

/// A mutex that may be locked from any process that maps it.
class SharedMutex {
public:
    SharedMutex() {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        // Without this the mutex may keep process-private state (and on other
        // systems would simply not work across processes).
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        check_pt(pthread_mutex_init(&m_, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~SharedMutex() { pthread_mutex_destroy(&m_); }
    SharedMutex(const SharedMutex&) = delete;
    SharedMutex& operator=(const SharedMutex&) = delete;

    void lock() { check_pt(pthread_mutex_lock(&m_), "pthread_mutex_lock"); }
    void unlock() { check_pt(pthread_mutex_unlock(&m_), "pthread_mutex_unlock"); }

private:
    pthread_mutex_t m_;
};

/// Scoped locking, like Python's `with lock:` (works with any lock()/unlock()).
template <class Mutex>
class LockGuard {
public:
    explicit LockGuard(Mutex& m) : m_(m) { m_.lock(); }
    ~LockGuard() { m_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Mutex& m_;
};

struct SharedState {
    SharedMutex mutex;
    long counter = 0;  // protected by mutex
    std::atomic<long> atomic_counter{0};
    std::atomic<int> ready{0};  // start gate
};

/// Owns an anonymous MAP_SHARED mapping holding one T, shared with children
/// forked after it was created.
template <class T>
class SharedObject {
public:
    SharedObject() {
        void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        obj_ = new (p) T{};
    }
    ~SharedObject() {
        obj_->~T();
        munmap(obj_, sizeof(T));
    }
    SharedObject(const SharedObject&) = delete;
    SharedObject& operator=(const SharedObject&) = delete;
    T* operator->() const { return obj_; }
    T& operator*() const { return *obj_; }

private:
    T* obj_;
};

void wait_for_everyone(SharedState& s) {
    s.ready.fetch_add(1);
    while (s.ready.load() < kWorkers) sched_yield();
}

void increment_with_mutex(SharedState& s) {
    LockGuard guard(s.mutex);
    long value = s.counter;
    sched_yield();  // the same wide window as in the broken version: now harmless
    s.counter = value + 1;
}

void increment_atomically(SharedState& s) {
    s.atomic_counter.fetch_add(1, std::memory_order_relaxed);  // one indivisible step
}

/// Starts kWorkers children that each call `step` kIncrements times; waits for all.
template <class Step>
void run_workers(SharedState& s, Step step) {
    s.ready = 0;
    std::vector<pid_t> children;
    for (int i = 0; i < kWorkers; ++i) {
        std::cout.flush();  // or buffered text would be printed twice
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            wait_for_everyone(s);
            for (long n = 0; n < kIncrements; ++n) step(s);
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

bool report(const char* how, long counter, long expected) {
    std::cout << how << ": counter = " << counter << " (expected " << expected << ")"
              << (counter == expected ? ": no lost updates\n" : ": UPDATES LOST\n");
    return counter == expected;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    const long expected = kWorkers * kIncrements;
    std::cout << kWorkers << " processes x " << kIncrements << " increments\n";
    std::cout << std::boolalpha << "std::atomic<long>::is_always_lock_free = "
              << std::atomic<long>::is_always_lock_free << '\n';

    SharedObject<SharedState> shared;
    run_workers(*shared, increment_with_mutex);
    bool ok = report("process-shared mutex", shared->counter, expected);

    run_workers(*shared, increment_atomically);
    ok = report("std::atomic fetch_add", shared->atomic_counter.load(), expected) && ok;
    return ok ? 0 : 1;
}
