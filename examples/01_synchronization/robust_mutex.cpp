// robust_mutex.cpp - a process dies while holding a lock. With an ordinary
// mutex every other process would wait for ever. A robust mutex hands the lock
// to the next locker with the news: pthread_mutex_lock returns EOWNERDEAD. That
// process repairs the data, calls pthread_mutex_consistent, and all carry on.
// Python: multiprocessing.Lock has no such thing.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// Shared data with an invariant, a + b == 100, that an update breaks for a moment.
struct Ledger {
    pthread_mutex_t mutex;
    int a = 100;
    int b = 0;
};

// ANCHOR: mutex
// Owns the shared mapping (see the first page of this chapter) and the mutex in it.
class SharedLedger {
public:
    SharedLedger() {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        // Robust: glibc keeps a list of the robust mutexes a thread holds in the
        // thread's own memory and tells the kernel where (set_robust_list(2)). When
        // the thread dies, however it dies, the kernel walks that list and marks
        // each mutex "owner died".
        check_pt(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST),
                 "pthread_mutexattr_setrobust");
        void* p = ::mmap(nullptr, sizeof(Ledger), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        ledger_ = new (p) Ledger{};
        const int err = pthread_mutex_init(&ledger_->mutex, &attr);
        pthread_mutexattr_destroy(&attr);
        if (err != 0) { ::munmap(p, sizeof(Ledger)); check_pt(err, "pthread_mutex_init"); }
    }
    ~SharedLedger() {
        pthread_mutex_destroy(&ledger_->mutex);
        ::munmap(ledger_, sizeof(Ledger));
    }
    SharedLedger(const SharedLedger&) = delete;
    Ledger& operator*() const { return *ledger_; }

private:
    Ledger* ledger_;
};
// ANCHOR_END: mutex

// ANCHOR: recover
// Locks; if the owner died, repairs the data first. Returns true if it had to.
bool lock_and_recover(Ledger& l) {
    const int rc = pthread_mutex_lock(&l.mutex);
    if (rc != EOWNERDEAD) {
        check_pt(rc, "pthread_mutex_lock");
        return false;
    }
    // We hold the lock now, but the data may be half-updated.
    std::cout << "pthread_mutex_lock returned EOWNERDEAD: a = " << l.a << ", b = " << l.b
              << (l.a + l.b == 100 ? " (consistent)\n" : " (a + b != 100: broken)\n");
    l.b = 100 - l.a;  // the repair; a real program might replay a journal
    // Without this call the unlock makes the mutex unusable (ENOTRECOVERABLE).
    check_pt(pthread_mutex_consistent(&l.mutex), "pthread_mutex_consistent");
    std::cout << "repaired to a = " << l.a << ", b = " << l.b << "; pthread_mutex_consistent\n";
    return true;
}
// ANCHOR_END: recover

// ANCHOR: children
// Runs body in a child and returns its status word. The child ends with _exit
// whatever happens, and both bodies below end by themselves, so the wait is bounded.
int run_child(int (*body)(Ledger&), Ledger& l) {
    std::cout.flush();  // else the child inherits our buffer and prints it again
    const pid_t pid = check(::fork(), "fork");
    if (pid == 0) {
        int code = 1;
        try { code = body(l); } catch (...) {}
        std::cout.flush();
        _exit(code);
    }
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    return status;
}

int die_holding_the_lock(Ledger& l) {
    check_pt(pthread_mutex_lock(&l.mutex), "pthread_mutex_lock");
    l.a -= 30;         // step 1 of 2 ...
    ::raise(SIGKILL);  // ... and the process is gone: no unlock, no clean-up
    return 3;          // not reached
}

int lock_normally(Ledger& l) {
    const bool repaired = lock_and_recover(l);
    l.a -= 10;
    l.b += 10;
    check_pt(pthread_mutex_unlock(&l.mutex), "pthread_mutex_unlock");
    return repaired ? 1 : 0;  // a second EOWNERDEAD would be wrong
}
// ANCHOR_END: children

}  // namespace

// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        SharedLedger shared;
        Ledger& l = *shared;
        const int victim = run_child(die_holding_the_lock, l);
        const bool killed = WIFSIGNALED(victim) && WTERMSIG(victim) == SIGKILL;
        std::cout << "child " << (killed ? "killed by SIGKILL" : "ended otherwise?!")
                  << " while holding the lock\n";

        const bool repaired = lock_and_recover(l);  // must see EOWNERDEAD
        check_pt(pthread_mutex_unlock(&l.mutex), "pthread_mutex_unlock");

        const int next = run_child(lock_normally, l);
        const bool next_ok = WIFEXITED(next) && WEXITSTATUS(next) == 0;
        std::cout << "next process locked without EOWNERDEAD and moved 10: "
                  << (next_ok ? "yes" : "NO") << "; a = " << l.a << ", b = " << l.b
                  << (l.a + l.b == 100 ? ", a + b = 100\n" : ", INVARIANT BROKEN\n");
        return killed && repaired && next_ok && l.a + l.b == 100 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "robust_mutex: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
