// array_value_ctypes.cpp — a typed shared value, with and without a lock.
// Python: v = Value('i', 0); with v.get_lock(): v.value += 1
// A Value is a few typed bytes in shared memory plus a lock (shared_array.cpp:
// an Array).
// Here: a struct in a MAP_SHARED mapping plus a process-shared pthread mutex.
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "array_value_ctypes";

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
/// C++ (a plain int written by two processes at once is undefined behaviour).
template <class T> struct Value {
    SharedMutex lock;
    std::atomic<T> value{};
};

/// Everything the children share, placed in one anonymous MAP_SHARED mapping
/// created before fork(). The destructor destroys it and unmaps.
struct Shared {
    Value<long> unlocked, locked, atomic;
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

class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try { rc = body(); } catch (const std::exception& e) {
                std::fprintf(stderr, "%s (child): %s\n", program, e.what());
            } catch (...) {}
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

constexpr int workers = 4;
constexpr long increments = 200'000;

int work(Shared& s) {
    for (long i = 0; i < increments; ++i) {
        // Like Python's v.value += 1: a read, then a write. Another process
        // can update in between, and its update is overwritten: lost.
        s.unlocked.value.store(s.unlocked.value.load() + 1);

        // Like "with v.get_lock(): v.value += 1": read and write under the lock.
        s.locked.lock.lock();
        s.locked.value.store(s.locked.value.load() + 1);
        s.locked.lock.unlock();

        // C++ can do better for one integer: an atomic read-modify-write.
        s.atomic.value.fetch_add(1);
    }
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: array_value_ctypes\n"); return 2; }
    try {
        SharedRegion shared;
        std::vector<Child> children;
        for (int id = 0; id < workers; ++id)
            children.emplace_back([&shared] { return work(*shared); });
        bool ok = true;
        for (auto& c : children) ok = (c.wait() == 0) && ok;

        const long expected = workers * increments;
        long lost = expected - shared->unlocked.value.load();
        std::printf("no lock (load, then store): %ld of %ld, %ld updates lost\n",
                    shared->unlocked.value.load(), expected, lost);
        std::printf("with the shared mutex     : %ld of %ld\n", shared->locked.value.load(), expected);
        std::printf("atomic fetch_add          : %ld of %ld\n", shared->atomic.value.load(), expected);

        ok = ok && shared->locked.value.load() == expected &&
             shared->atomic.value.load() == expected;
        std::printf("%s\n", ok ? "locked and atomic updates are exact" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "array_value_ctypes: %s\n", e.what());
        return 1;
    }
}
