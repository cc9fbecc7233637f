// robust_mutex.cpp — a process dies while holding a lock. With an ordinary mutex
// every other process would now wait forever. A robust mutex hands the lock to
// the next locker together with the news: pthread_mutex_lock returns EOWNERDEAD.
// That process repairs the shared data, calls pthread_mutex_consistent, and
// everybody carries on.
//
// Python: multiprocessing.Lock has no such feature — a worker killed inside
// `with lock:` leaves the lock held for ever.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>

namespace {

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

/// Shared data with an invariant: `a + b == 100`. An update moves units from a
/// to b in two steps, so a process that dies in between breaks the invariant.
struct Ledger {
    pthread_mutex_t mutex;
    int a = 100;
    int b = 0;
    bool invariant_holds() const { return a + b == 100; }
};

void init_robust_mutex(pthread_mutex_t& m) {
    pthread_mutexattr_t attr;
    check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
             "pthread_mutexattr_setpshared");
    // The kernel keeps a list of robust mutexes each thread holds and marks them
    // when the thread dies, however it dies (even SIGKILL).
    check_pt(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
             "pthread_mutexattr_setrobust");
    check_pt(pthread_mutex_init(&m, &attr), "pthread_mutex_init");
    pthread_mutexattr_destroy(&attr);
}

/// Owns the anonymous shared mapping that holds the Ledger.
class SharedLedger {
public:
    SharedLedger() {
        void* p = mmap(nullptr, sizeof(Ledger), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        ledger_ = new (p) Ledger{};
        init_robust_mutex(ledger_->mutex);
    }
    ~SharedLedger() {
        pthread_mutex_destroy(&ledger_->mutex);
        munmap(ledger_, sizeof(Ledger));
    }
    SharedLedger(const SharedLedger&) = delete;
    SharedLedger& operator=(const SharedLedger&) = delete;
    Ledger* operator->() const { return ledger_; }
    Ledger& operator*() const { return *ledger_; }

private:
    Ledger* ledger_;
};

/// The victim: takes the lock, does half an update, and is killed.
[[noreturn]] void crash_while_holding_lock(Ledger& ledger) {
    check_pt(pthread_mutex_lock(&ledger.mutex), "pthread_mutex_lock");
    ledger.a -= 30;  // step 1 of 2 ...
    raise(SIGKILL);  // ... and the process is gone: no unlock, no cleanup
    std::_Exit(3);   // not reached
}

/// Puts the data back into a valid state. Here we can recompute b from a; a
/// real program might replay a journal or roll back to a checkpoint.
void repair(Ledger& ledger) {
    ledger.b = 100 - ledger.a;
}

/// Locks the ledger; if the previous owner died, repairs it first.
/// Returns true if a repair was needed.
bool lock_and_recover(Ledger& ledger) {
    int rc = pthread_mutex_lock(&ledger.mutex);
    if (rc == EOWNERDEAD) {
        // We own the lock now, but the data may be half-updated.
        std::cout << "pthread_mutex_lock returned EOWNERDEAD: the owner died holding "
                     "the lock\n";
        std::cout << "state found: a = " << ledger.a << ", b = " << ledger.b
                  << (ledger.invariant_holds() ? " (consistent)\n"
                                               : " (a + b != 100: broken)\n");
        repair(ledger);
        // Without this call the mutex becomes unusable (ENOTRECOVERABLE) at unlock.
        check_pt(pthread_mutex_consistent(&ledger.mutex), "pthread_mutex_consistent");
        std::cout << "repaired: a = " << ledger.a << ", b = " << ledger.b
                  << "; pthread_mutex_consistent called\n";
        return true;
    }
    check_pt(rc, "pthread_mutex_lock");
    return false;
}

int wait_for(pid_t pid) {
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    return status;
}

/// Forks a child that dies holding the lock; true if it really died by SIGKILL.
bool kill_a_lock_holder(Ledger& ledger) {
    std::cout.flush();
    pid_t victim = check(fork(), "fork");
    if (victim == 0) crash_while_holding_lock(ledger);
    int status = wait_for(victim);
    bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    std::cout << "child " << (killed ? "was killed by SIGKILL" : "ended otherwise?!")
              << " while holding the lock\n";
    return killed;
}

/// After the repair the lock works normally: another process locks it without
/// EOWNERDEAD and makes an ordinary update.
bool next_process_locks_normally(Ledger& ledger) {
    std::cout.flush();
    pid_t next = check(fork(), "fork");
    if (next == 0) {
        bool again = lock_and_recover(ledger);
        ledger.a -= 10;
        ledger.b += 10;
        check_pt(pthread_mutex_unlock(&ledger.mutex), "pthread_mutex_unlock");
        std::exit(again ? 1 : 0);  // a second EOWNERDEAD would be wrong
    }
    int status = wait_for(next);
    bool next_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::cout << "next process locked normally and moved 10: "
              << (next_ok ? "yes" : "NO") << "; a = " << ledger.a
              << ", b = " << ledger.b
              << (ledger.invariant_holds() ? ", a + b = 100\n"
                                           : ", INVARIANT BROKEN\n");
    return next_ok && ledger.invariant_holds();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedLedger ledger;
    bool ok = kill_a_lock_holder(*ledger);

    ok = lock_and_recover(*ledger) && ok;  // must see EOWNERDEAD and repair
    check_pt(pthread_mutex_unlock(&ledger->mutex), "pthread_mutex_unlock");

    ok = next_process_locks_normally(*ledger) && ok;
    return ok ? 0 : 1;
}
