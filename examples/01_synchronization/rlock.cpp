// rlock.cpp - a recursive, process-shared mutex (Python: multiprocessing.RLock).
// A function that holds the lock calls another that takes the same lock. An
// ordinary mutex would deadlock on itself (an "error-checking" one reports
// EDEADLK instead of hanging); a recursive mutex counts, and other processes
// get it only when the count is back to zero.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

// ANCHOR: account
// Built in a MAP_SHARED mapping. Each public operation takes the lock, so it
// is safe on its own, and deposit_all() is built from deposit().
struct Account {
    pthread_mutex_t mutex;
    long balance = 0;

    explicit Account(int type) {  // PTHREAD_MUTEX_RECURSIVE or _ERRORCHECK
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        check_pt(pthread_mutexattr_settype(&attr, type), "pthread_mutexattr_settype");
        check_pt(pthread_mutex_init(&mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~Account() { pthread_mutex_destroy(&mutex); }

    int deposit(long amount) {  // returns the error number, 0 on success
        if (int rc = pthread_mutex_lock(&mutex)) return rc;
        balance += amount;
        return pthread_mutex_unlock(&mutex);
    }
    // Several deposits as one step: it calls deposit() while holding the lock.
    int deposit_all(const long* amounts, int n) {
        if (int rc = pthread_mutex_lock(&mutex)) return rc;
        int rc = 0;
        for (int i = 0; i < n && rc == 0; ++i) rc = deposit(amounts[i]);
        pthread_mutex_unlock(&mutex);
        return rc;
    }
};

// Owns the mapping and the account in it.
struct SharedAccount {
    explicit SharedAccount(int type) {
        void* p = ::mmap(nullptr, sizeof(Account), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        try { account = new (p) Account(type); } catch (...) { ::munmap(p, sizeof(Account)); throw; }
    }
    ~SharedAccount() { account->~Account(); ::munmap(account, sizeof(Account)); }
    SharedAccount(const SharedAccount&) = delete;
    Account* account;
};
// ANCHOR_END: account

// ANCHOR: probe
// Runs probe() in a child and returns the error number it found: the lock as
// another process sees it. The probes never block, so the wait is bounded.
int in_other_process(int (*probe)(Account&), Account& acc) {
    std::cout.flush();  // else the child prints our buffer again
    const pid_t pid = check(::fork(), "fork");
    if (pid == 0) {  // the child ends here, whatever happens
        int code = 255;
        try { code = probe(acc); } catch (...) {}
        _exit(code);
    }
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}
int try_unlock(Account& a) { return pthread_mutex_unlock(&a.mutex); }
int try_lock(Account& a) {
    const int rc = pthread_mutex_trylock(&a.mutex);
    if (rc == 0) pthread_mutex_unlock(&a.mutex);
    return rc;
}
// ANCHOR_END: probe

const char* errname(int err) {
    return err == 0 ? "0 (success)" : err == EDEADLK ? "EDEADLK" : err == EBUSY ? "EBUSY"
         : err == EPERM ? "EPERM" : std::strerror(err);
}

}  // namespace

// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const long amounts[] = {10, 20, 30};
        SharedAccount plain(PTHREAD_MUTEX_ERRORCHECK);
        int rc = plain.account->deposit_all(amounts, 3);
        std::cout << "error-checking mutex: nested lock returned " << errname(rc)
                  << " (a default mutex would hang for ever)\n";
        bool ok = rc == EDEADLK;

        SharedAccount shared(PTHREAD_MUTEX_RECURSIVE);
        Account& acc = *shared.account;
        rc = acc.deposit_all(amounts, 3);
        std::cout << "recursive mutex: deposit_all returned " << errname(rc)
                  << ", balance = " << acc.balance << " (expected 60)\n";
        ok = ok && rc == 0 && acc.balance == 60;

        check_pt(pthread_mutex_lock(&acc.mutex), "pthread_mutex_lock");
        check_pt(pthread_mutex_lock(&acc.mutex), "pthread_mutex_lock");  // count 2
        rc = in_other_process(try_unlock, acc);
        std::cout << "another process tries to unlock it: " << errname(rc)
                  << " (only the owner may release)\n";
        ok = ok && rc == EPERM;
        rc = in_other_process(try_lock, acc);
        std::cout << "held twice, other process try_lock: " << errname(rc) << '\n';
        ok = ok && rc == EBUSY;
        check_pt(pthread_mutex_unlock(&acc.mutex), "pthread_mutex_unlock");  // count 1
        rc = in_other_process(try_lock, acc);
        std::cout << "released once, other process try_lock: " << errname(rc) << " (still held)\n";
        ok = ok && rc == EBUSY;
        check_pt(pthread_mutex_unlock(&acc.mutex), "pthread_mutex_unlock");  // count 0: free
        rc = in_other_process(try_lock, acc);
        std::cout << "released twice, other process try_lock: " << errname(rc) << '\n';
        ok = ok && rc == 0;

        std::cout << (ok ? "recursive mutex behaves like Python's RLock\n" : "UNEXPECTED BEHAVIOUR\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "rlock: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
