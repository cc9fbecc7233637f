// array_value_ctypes.cpp — a typed shared value, with and without its lock.
// Python: v = Value('l', 0); v.value += 1 versus with v.get_lock(): v.value += 1
// A Value is a few typed bytes in shared memory plus a lock (shared_array.cpp:
// an Array; value_atomic.cpp: one counter that needs no lock at all).
// Here: a struct in a MAP_SHARED mapping plus a process-shared pthread mutex.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <deque>
#include <new>
#include <system_error>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pthread(int rc, const char* what) {   // pthread calls return the error
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

/// A mutex that works across processes: it must live in shared memory AND be
/// initialised with PTHREAD_PROCESS_SHARED (the default only works for threads).
class SharedMutex {
public:
    SharedMutex() {
        pthread_mutexattr_t attr;
        check_pthread(pthread_mutexattr_init(&attr), "mutexattr_init");
        check_pthread(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
        check_pthread(pthread_mutex_init(&m_, &attr), "mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~SharedMutex() { pthread_mutex_destroy(&m_); }
    SharedMutex(const SharedMutex&) = delete;
    void lock() { check_pthread(pthread_mutex_lock(&m_), "mutex_lock"); }
    void unlock() { check_pthread(pthread_mutex_unlock(&m_), "mutex_unlock"); }
private:
    pthread_mutex_t m_;
};

/// Python's Value: one typed value and the lock that get_lock() returns.
/// The value is an atomic so that even the unlocked accesses are well-defined
/// C++ (a plain long written by two processes at once is undefined behaviour).
template <class T> struct Value {
    SharedMutex lock;
    std::atomic<T> value{};
    // In memory two processes share, an atomic must be lock-free: a library lock is per process.
    static_assert(std::atomic<T>::is_always_lock_free);
};

/// Two Values in one anonymous MAP_SHARED mapping created before fork(), so
/// every child sees the same pages. The destructor destroys them and unmaps.
struct Shared {
    Value<long> unlocked, locked;
};
class SharedRegion {
public:
    SharedRegion() {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        s_ = new (p) Shared;
    }
    ~SharedRegion() { s_->~Shared(); ::munmap(s_, sizeof(Shared)); }
    SharedRegion(const SharedRegion&) = delete;
    Shared* operator->() const { return s_; }
    Shared& operator*() const { return *s_; }
private:
    Shared* s_;
};

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

constexpr int workers = 4;
constexpr long increments = 200'000;

void work(Shared& s) {
    for (long i = 0; i < increments; ++i) {
        // Like Python's v.value += 1: a read, then a write. Another process
        // can update in between, and its update is overwritten: lost.
        s.unlocked.value.store(s.unlocked.value.load() + 1);

        // Like "with v.get_lock(): v.value += 1": read and write under the lock.
        s.locked.lock.lock();
        s.locked.value.store(s.locked.value.load() + 1);
        s.locked.lock.unlock();
    }
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: array_value_ctypes\n"); return 2; }
    try {
        SharedRegion shared;
        std::deque<Child> children;  // a deque never moves its elements
        for (int id = 0; id < workers; ++id) {
            std::fflush(stdout);
            Child& c = children.emplace_back(check(::fork(), "fork"));
            if (c.pid == 0) {  // the child ends here, whatever happens: never in main's code
                int code = 1;
                try { work(*shared); code = 0; } catch (const std::exception& e) {
                    std::fprintf(stderr, "array_value_ctypes (child): %s\n", e.what());
                }
                _exit(code);
            }
        }
        bool ok = true;
        for (Child& c : children) {  // each ends by itself after its increments
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        const long expected = workers * increments, unlocked = shared->unlocked.value.load();
        std::printf("no lock (load, then store): %ld of %ld, %ld updates lost\n", unlocked,
                    expected, expected - unlocked);
        std::printf("with the shared mutex     : %ld of %ld\n", shared->locked.value.load(), expected);
        ok = ok && shared->locked.value.load() == expected;
        std::printf("%s\n", ok ? "the locked updates are exact" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "array_value_ctypes: %s\n", e.what());
        return 1;
    }
}
