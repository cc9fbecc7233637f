// rlock.cpp - a recursive, process-shared mutex (Python: multiprocessing.RLock).
// A function that holds the lock calls another that takes the same lock. An
// ordinary mutex would deadlock on itself (an "error-checking" one reports
// EDEADLK instead of hanging); a recursive mutex counts, and lets it in.
#include <pthread.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <new>
#include <system_error>

void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

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

const char* errname(int err) { return err == 0 ? "0 (success)" : err == EDEADLK ? "EDEADLK" : std::strerror(err); }

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
        const bool deadlock_seen = rc == EDEADLK;

        SharedAccount shared(PTHREAD_MUTEX_RECURSIVE);
        rc = shared.account->deposit_all(amounts, 3);
        std::cout << "recursive mutex: deposit_all returned " << errname(rc)
                  << ", balance = " << shared.account->balance << " (expected 60)\n";
        return deadlock_seen && rc == 0 && shared.account->balance == 60 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "rlock: " << e.what() << '\n';
        return 1;
    }
}
