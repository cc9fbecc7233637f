// rlock.cpp — a recursive, process-shared mutex (Python: multiprocessing.RLock).
// A function that holds the lock calls another function that takes the same
// lock. An ordinary mutex would deadlock on itself (we use an "error-checking"
// one so that we get EDEADLK instead of hanging); a recursive mutex counts.
// It is released for other processes only when the count returns to zero.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

/// A process-shared mutex of the given type (PTHREAD_MUTEX_RECURSIVE or _ERRORCHECK).
class SharedMutex {
public:
    explicit SharedMutex(int type) {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        check_pt(pthread_mutexattr_settype(&attr, type), "pthread_mutexattr_settype");
        check_pt(pthread_mutex_init(&m_, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~SharedMutex() { pthread_mutex_destroy(&m_); }
    SharedMutex(const SharedMutex&) = delete;
    SharedMutex& operator=(const SharedMutex&) = delete;

    int lock() { return pthread_mutex_lock(&m_); }  // returns the error number
    int try_lock() { return pthread_mutex_trylock(&m_); }
    int unlock() { return pthread_mutex_unlock(&m_); }

private:
    pthread_mutex_t m_;
};

/// A tiny account whose public operations each take the lock, so that they are
/// safe to call on their own — and one of them is built from the other.
struct Account {
    SharedMutex mutex;
    long balance = 0;

    explicit Account(int mutex_type) : mutex(mutex_type) {}

    int deposit(long amount) {
        if (int rc = mutex.lock()) return rc;
        balance += amount;
        return mutex.unlock();
    }
    /// Deposits several amounts as one step: nobody sees a partial total.
    /// Calls deposit() while already holding the lock: needs a recursive mutex.
    int deposit_all(const long* amounts, int n) {
        if (int rc = mutex.lock()) return rc;
        for (int i = 0; i < n; ++i) {
            if (int rc = deposit(amounts[i])) {
                mutex.unlock();
                return rc;
            }
        }
        return mutex.unlock();
    }
};

/// Owns an anonymous shared mapping holding one Account.
class SharedAccount {
public:
    explicit SharedAccount(int mutex_type) {
        void* p = mmap(nullptr, sizeof(Account), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        account_ = new (p) Account(mutex_type);
    }
    ~SharedAccount() {
        account_->~Account();
        munmap(account_, sizeof(Account));
    }
    SharedAccount(const SharedAccount&) = delete;
    SharedAccount& operator=(const SharedAccount&) = delete;
    Account& operator*() const { return *account_; }

private:
    Account* account_;
};

/// Runs `probe` in a child process and returns its exit status (the error number
/// it found), so we see the lock exactly as another process sees it.
template <class Probe>
int in_other_process(Probe probe) {
    std::cout.flush();
    pid_t pid = check(fork(), "fork");
    if (pid == 0) std::exit(probe());
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    if (!WIFEXITED(status)) die("probe child crashed");
    return WEXITSTATUS(status);
}

const char* errname(int err) {
    switch (err) {
        case 0:
            return "0 (success)";
        case EDEADLK:
            return "EDEADLK";
        case EBUSY:
            return "EBUSY";
        case EPERM:
            return "EPERM";
        default:
            return std::strerror(err);
    }
}

constexpr long kAmounts[] = {10, 20, 30};

/// deposit_all() takes the lock and then calls deposit(), which takes it again.
bool nested_call_fails_without_recursion() {
    SharedAccount plain(PTHREAD_MUTEX_ERRORCHECK);
    int rc = (*plain).deposit_all(kAmounts, 3);
    std::cout << "error-checking mutex: nested lock returned " << errname(rc)
              << " (a default mutex would hang forever)\n";
    return rc == EDEADLK;
}

bool nested_call_works_with_recursion(Account& acc) {
    int rc = acc.deposit_all(kAmounts, 3);
    std::cout << "recursive mutex: deposit_all returned " << errname(rc)
              << ", balance = " << acc.balance << " (expected 60)\n";
    return rc == 0 && acc.balance == 60;
}

/// The parent holds the lock twice; child processes probe it after each unlock.
bool ownership_and_counting(Account& acc) {
    check_pt(acc.mutex.lock(), "lock");
    check_pt(acc.mutex.lock(), "lock");  // depth 2
    int other = in_other_process([&] { return acc.mutex.unlock(); });
    std::cout << "another process tries to unlock it: " << errname(other)
              << " (only the owner may release)\n";
    bool ok = other == EPERM;

    other = in_other_process([&] { return acc.mutex.try_lock(); });
    std::cout << "held twice, other process try_lock: " << errname(other) << '\n';
    ok = ok && other == EBUSY;

    check_pt(acc.mutex.unlock(), "unlock");  // depth 1: still ours
    other = in_other_process([&] { return acc.mutex.try_lock(); });
    std::cout << "released once, other process try_lock: " << errname(other)
              << " (still held)\n";
    ok = ok && other == EBUSY;

    check_pt(acc.mutex.unlock(), "unlock");  // depth 0: free
    other = in_other_process([&] {
        int r = acc.mutex.try_lock();
        if (r == 0) acc.mutex.unlock();
        return r;
    });
    std::cout << "released twice, other process try_lock: " << errname(other) << '\n';
    return ok && other == 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    bool ok = nested_call_fails_without_recursion();

    SharedAccount account(PTHREAD_MUTEX_RECURSIVE);
    ok = nested_call_works_with_recursion(*account) && ok;
    ok = ownership_and_counting(*account) && ok;

    std::cout << (ok ? "recursive mutex behaves like Python's RLock\n"
                     : "UNEXPECTED BEHAVIOUR\n");
    return ok ? 0 : 1;
}
