// ANCHOR: init
// pshared.hpp - what this chapter's condition-variable examples share: the error
// idiom and the owner of a child; a mutex and a condition variable marked
// PTHREAD_PROCESS_SHARED, so that they work for every process that maps them;
// Python's Condition.wait_for on top of them; and the MAP_SHARED mapping.
#pragma once
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cerrno>
#include <ctime>
#include <new>
#include <system_error>

// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
inline void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

inline void init_shared(pthread_mutex_t& mutex) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    check_pt(pthread_mutex_init(&mutex, &attr), "pthread_mutex_init");
}

// Never destroyed: glibc's pthread_cond_destroy would wait for every waiter to
// leave, and a waiter that was killed never does. The memory goes with the mapping.
inline void init_shared(pthread_cond_t& cond) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);  // setting the clock moves no time-out
    check_pt(pthread_cond_init(&cond, &attr), "pthread_cond_init");
}
// ANCHOR_END: init
// ANCHOR: wait_for
// Condition.wait_for(pred, ms), `mutex` held: re-check after every wake-up (it
// may be for nothing), against one absolute deadline that wake-ups do not move.
template <class Pred>
bool wait_for(pthread_cond_t& cond, pthread_mutex_t& mutex, Pred pred, long ms) {
    timespec end{};
    ::clock_gettime(CLOCK_MONOTONIC, &end);  // the clock the condition was given
    end.tv_nsec += ms % 1000 * 1'000'000;
    end.tv_sec += ms / 1000 + end.tv_nsec / 1'000'000'000;
    end.tv_nsec %= 1'000'000'000;
    while (!pred()) {
        const int rc = pthread_cond_timedwait(&cond, &mutex, &end);
        if (rc == ETIMEDOUT) return pred();
        check_pt(rc, "pthread_cond_timedwait");
    }
    return true;
}

// Owns an anonymous MAP_SHARED mapping made before fork(), holding one T
// (see shared_mapping.cpp): parent and children see the same bytes. T's
// destructor never runs: see init_shared(pthread_cond_t&).
template <class T> struct SharedMapping {
    SharedMapping() : p(::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        try { new (p) T{}; } catch (...) { ::munmap(p, sizeof(T)); throw; }
    }
    ~SharedMapping() { ::munmap(p, sizeof(T)); }
    SharedMapping(const SharedMapping&) = delete;
    T& operator*() const { return *static_cast<T*>(p); }
    void* p;
};
// ANCHOR_END: wait_for
