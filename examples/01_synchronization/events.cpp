// events.cpp - Python's multiprocessing.Event from its three parts in a shared
// mapping: a flag, a process-shared mutex and a condition variable (pshared.hpp).
// Used as a starting gun that releases four worker processes at once.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "pshared.hpp"

namespace {
struct SharedEvent {  // for every process that maps it
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool flag = false;  // guarded by mutex
    SharedEvent() { init_shared(mutex); init_shared(cond); }
    void clear() { set(false); }  // Python's set(), clear(), wait(timeout)
    bool wait(long ms) {  // the flag: true if set within ms; is_set() is wait(0)
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        const bool result = wait_for(cond, mutex, [&] { return flag; }, ms);
        pthread_mutex_unlock(&mutex);
        return result;
    }
    void set(bool value = true) {
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        flag = value;  // under the mutex: no waiter can miss the broadcast
        if (value) pthread_cond_broadcast(&cond);  // wake ALL waiters
        pthread_mutex_unlock(&mutex);
    }
};

// In memory two processes share, an atomic must be lock-free: a library lock is per process.
static_assert(std::atomic<int>::is_always_lock_free);
struct Shared { SharedEvent gun; std::atomic<int> at_line{0}, passed{0}; };  // in the mapping
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        SharedMapping<Shared> mapping;
        Shared& s = *mapping;
        std::cout << "wait(100 ms) on an unset event: " << std::boolalpha << s.gun.wait(100)
                  << " (timed out)\n";
        Child workers[4];  // after the mapping: killed and reaped before it goes
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here, whatever happens
                int code = 1;  // at the start line, then through the gun (5 s at most)
                try { ++s.at_line; if (s.gun.wait(5000)) ++s.passed, code = 0; } catch (...) {}
                _exit(code);
            }
        }
        for (int ms = 0; s.at_line < 4 && ms < 5000; ms += 10) ::usleep(10'000);
        ::usleep(50'000);  // time to block inside wait()
        std::cout << s.at_line << " workers at the start line; passed: " << s.passed << '\n';
        bool ok = s.passed == 0;  // nobody passes before set()
        s.gun.set();  // one broadcast wakes every waiting process
        for (Child& w : workers) {  // each ends by itself: 5 s at most
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        s.gun.clear();
        const bool is_set = s.gun.wait(0);
        std::cout << "after set(): passed: " << s.passed << " of 4\n"
                  << "after clear(): is_set() = " << is_set << '\n';
        return ok && s.passed == 4 && !is_set ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "events: " << e.what() << '\n';
        return 1;
    }
}
