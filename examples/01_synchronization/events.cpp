// events.cpp — Python's multiprocessing.Event built from its three real parts,
// placed in shared memory: a flag, a process-shared mutex, and a process-shared
// condition variable (timed on CLOCK_MONOTONIC, so that changing the wall
// clock cannot shorten or stretch a time-out).
// Then the classic use: a "starting gun" that releases all workers at once.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <new>
#include <vector>

namespace {

constexpr int kWorkers = 4;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

void check_pt(int err, const char* what) {
    if (err != 0) {
        errno = err;
        die(what);
    }
}

std::int64_t monotonic_ns() {
    timespec t{};
    check(clock_gettime(CLOCK_MONOTONIC, &t), "clock_gettime");
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

/// set / clear / is_set / wait(timeout), usable by every process mapping it.
class SharedEvent {
public:
    SharedEvent() {
        pthread_mutexattr_t ma;
        check_pt(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED),
                 "setpshared");
        check_pt(pthread_mutex_init(&mutex_, &ma), "pthread_mutex_init");
        pthread_mutexattr_destroy(&ma);

        pthread_condattr_t ca;
        check_pt(pthread_condattr_init(&ca), "pthread_condattr_init");
        check_pt(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED),
                 "setpshared");
        check_pt(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), "setclock");
        check_pt(pthread_cond_init(&cond_, &ca), "pthread_cond_init");
        pthread_condattr_destroy(&ca);
    }
    ~SharedEvent() {
        pthread_cond_destroy(&cond_);
        pthread_mutex_destroy(&mutex_);
    }
    SharedEvent(const SharedEvent&) = delete;
    SharedEvent& operator=(const SharedEvent&) = delete;

    void set() {
        lock();
        flag_ = true;
        check_pt(pthread_cond_broadcast(&cond_),
                 "pthread_cond_broadcast");  // wake ALL waiters
        unlock();
    }
    void clear() {
        lock();
        flag_ = false;
        unlock();
    }
    bool is_set() {
        lock();
        bool f = flag_;
        unlock();
        return f;
    }
    /// Returns the flag: true if it was set in time, false on time-out.
    bool wait(double seconds) {
        const std::int64_t end =
            monotonic_ns() + static_cast<std::int64_t>(seconds * 1e9);
        const timespec deadline{static_cast<time_t>(end / 1'000'000'000),
                                static_cast<long>(end % 1'000'000'000)};
        lock();
        // A loop, not an if: a wake-up does not prove the flag is set (spurious
        // wake-ups happen, and someone may have cleared it again).
        while (!flag_) {
            int rc = pthread_cond_timedwait(&cond_, &mutex_, &deadline);
            if (rc == ETIMEDOUT) break;
            check_pt(rc, "pthread_cond_timedwait");
        }
        bool f = flag_;
        unlock();
        return f;
    }

private:
    void lock() { check_pt(pthread_mutex_lock(&mutex_), "pthread_mutex_lock"); }
    void unlock() { check_pt(pthread_mutex_unlock(&mutex_), "pthread_mutex_unlock"); }

    pthread_mutex_t mutex_;
    pthread_cond_t cond_;
    bool flag_ = false;
};

struct Shared {
    SharedEvent start;
    std::atomic<int> waiting{0};  // workers at the start line
    std::atomic<int> passed{0};   // workers that got through wait()
    std::atomic<std::int64_t> earliest_pass{INT64_MAX};
};

/// Owns an anonymous MAP_SHARED mapping with one Shared in it.
class SharedMapping {
public:
    SharedMapping() {
        void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        shared_ = new (p) Shared{};
    }
    ~SharedMapping() {
        shared_->~Shared();
        munmap(shared_, sizeof(Shared));
    }
    SharedMapping(const SharedMapping&) = delete;
    SharedMapping& operator=(const SharedMapping&) = delete;
    Shared& operator*() const { return *shared_; }

private:
    Shared* shared_;
};

int worker(Shared& s, int id) {
    s.waiting.fetch_add(1);
    if (!s.start.wait(5.0)) return 1;  // no gun within 5 s: give up, report failure
    std::int64_t now = monotonic_ns();
    std::int64_t seen = s.earliest_pass.load();
    while (now < seen && !s.earliest_pass.compare_exchange_weak(seen, now)) {
    }
    s.passed.fetch_add(1);
    std::cout << "worker " << id << " started after the gun\n";
    return 0;
}

void sleep_ms(long ms) {
    timespec t{ms / 1000, (ms % 1000) * 1'000'000};
    nanosleep(&t, nullptr);
}

/// An unset event: wait() must give up after its time-out and return false.
bool wait_times_out(SharedEvent& event) {
    bool got = event.wait(0.1);
    std::cout << "wait(0.1 s) on an unset event returned "
              << (got ? "true?!" : "false: timed out") << '\n';
    return !got;
}

/// Lines up kWorkers processes behind the event, fires it, and checks that all
/// of them passed and none passed early.
bool starting_gun(Shared& s) {
    std::vector<pid_t> workers;
    for (int id = 1; id <= kWorkers; ++id) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            int code = worker(s, id);
            std::cout.flush();
            std::exit(code);
        }
        workers.push_back(pid);
    }
    while (s.waiting.load() < kWorkers) sched_yield();
    sleep_ms(50);  // give them time to block inside wait()
    const int early = s.passed.load();
    std::cout << kWorkers << " workers are at the start line; passed so far: " << early
              << '\n';

    const std::int64_t gun = monotonic_ns();
    std::cout << "set(): the gun is fired\n";
    std::cout.flush();  // before the workers print
    s.start.set();

    bool all_exited_ok = true;
    for (pid_t pid : workers) {
        int status = 0;
        check(waitpid(pid, &status, 0), "waitpid");
        all_exited_ok = all_exited_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    const bool all_passed = s.passed.load() == kWorkers;
    const bool none_early = s.earliest_pass.load() >= gun;
    std::cout << "all " << kWorkers << " passed: " << (all_passed ? "yes" : "NO")
              << "; none before set(): " << (none_early ? "yes" : "NO") << '\n';
    return early == 0 && all_exited_ok && all_passed && none_early;
}

/// After clear() the event is false again, and wait() times out again.
bool clear_resets(SharedEvent& event) {
    event.clear();
    bool set_now = event.is_set();
    bool waited = event.wait(0.05);
    std::cout << "after clear(): is_set() = " << std::boolalpha << set_now
              << ", wait(0.05 s) = " << waited << '\n';
    return !set_now && !waited;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedMapping mapping;
    Shared& s = *mapping;
    bool ok = wait_times_out(s.start);
    ok = starting_gun(s) && ok;
    ok = clear_resets(s.start) && ok;
    return ok ? 0 : 1;
}
