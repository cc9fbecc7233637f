// events.cpp - Python's multiprocessing.Event from its three parts, placed in a
// shared mapping: a flag, a process-shared mutex and a process-shared condition
// variable timed on CLOCK_MONOTONIC (setting the wall clock cannot shorten or
// stretch a time-out). Used as a starting gun that releases four workers at once.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

namespace {

constexpr int kWorkers = 4;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// ANCHOR: event
/// set / clear / wait(ms) for every process that maps it. (Never destroyed:
/// pthread_cond_destroy may wait for a waiter that was killed.)
struct SharedEvent {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool flag = false;  // guarded by mutex

    SharedEvent() {
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        check_pt(pthread_mutex_init(&mutex, &ma), "pthread_mutex_init");
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        check_pt(pthread_cond_init(&cond, &ca), "pthread_cond_init");
    }
    void set() { change(true); }
    void clear() { change(false); }
    /// The flag: true if it was set within `ms` milliseconds (is_set() is wait(0)).
    bool wait(long ms) {
        timespec end{};
        ::clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_nsec += ms % 1000 * 1'000'000;
        end.tv_sec += ms / 1000 + end.tv_nsec / 1'000'000'000;
        end.tv_nsec %= 1'000'000'000;
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        int rc = 0;  // a loop, not an if: waking up does not prove the flag is set
        while (!flag && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&cond, &mutex, &end);
        const bool result = flag;
        pthread_mutex_unlock(&mutex);
        return result;
    }

private:
    void change(bool value) {
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        flag = value;  // under the mutex: no waiter can miss the broadcast
        if (value) pthread_cond_broadcast(&cond);  // wake ALL waiters
        pthread_mutex_unlock(&mutex);
    }
};
// ANCHOR_END: event

// ANCHOR: shared
struct Shared {  // built in a MAP_SHARED mapping before fork()
    SharedEvent gun;
    std::atomic<bool> fired{false};  // set by the parent just before gun.set()
    std::atomic<int> at_line{0}, passed{0}, early{0};
};

// Owns the anonymous shared mapping the Shared lives in.
struct Mapping {
    Mapping() : p(::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    }
    ~Mapping() { ::munmap(p, sizeof(Shared)); }
    void* p;
};

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};
// ANCHOR_END: shared

void sleep_ms(long ms) {
    timespec t{ms / 1000, ms % 1000 * 1'000'000};
    ::nanosleep(&t, nullptr);
}

// ANCHOR: main
int worker(Shared& s) {
    s.at_line.fetch_add(1);
    if (!s.gun.wait(5000)) return 1;  // no gun within 5 s: give up, report failure
    if (!s.fired.load()) s.early.fetch_add(1);
    s.passed.fetch_add(1);
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Mapping mapping;
        Shared& s = *new (mapping.p) Shared{};
        std::cout << "wait(100 ms) on an unset event: " << std::boolalpha << s.gun.wait(100)
                  << " (timed out)\n";

        Child workers[kWorkers];  // after the mapping: killed and reaped before it goes
        for (auto& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = worker(s); } catch (...) {}
                _exit(code);
            }
        }
        for (int ms = 0; s.at_line.load() < kWorkers && ms < 5000; ms += 10) sleep_ms(10);
        sleep_ms(50);  // time to block inside wait()
        std::cout << s.at_line.load() << " workers at the start line; passed so far: "
                  << s.passed.load() << '\n';
        const bool none_yet = s.passed.load() == 0;

        s.fired = true;
        s.gun.set();  // one broadcast wakes every waiting process
        int exited_ok = 0;
        for (auto& w : workers) {  // each ends by itself: 5 s at most
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;  // reaped
            exited_ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::cout << "set(): " << s.passed.load() << " of " << kWorkers << " passed, "
                  << s.early.load() << " before set()\n";
        s.gun.clear();
        std::cout << "after clear(): is_set() = " << s.gun.wait(0) << '\n';
        return none_yet && exited_ok == kWorkers && s.early.load() == 0 && !s.gun.wait(0)
                   ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "events: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
