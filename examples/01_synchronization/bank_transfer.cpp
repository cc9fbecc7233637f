// bank_transfer.cpp — processes move money between accounts in shared memory.
// Each account has its own process-shared mutex; a transfer locks both accounts
// in a fixed order (lower index first) so that two opposite transfers cannot
// deadlock. The invariant "total money never changes" is checked at the end.
//
// Python: the same program with one multiprocessing.Lock per account.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <random>
#include <utility>
#include <vector>

namespace {

constexpr int kAccounts = 5;
constexpr long kInitialBalance = 1000;
constexpr int kTellers = 4;  // processes
constexpr int kTransfersPerTeller = 20000;

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

class SharedMutex {
public:
    SharedMutex() {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        check_pt(pthread_mutex_init(&m_, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~SharedMutex() { pthread_mutex_destroy(&m_); }
    SharedMutex(const SharedMutex&) = delete;
    SharedMutex& operator=(const SharedMutex&) = delete;
    void lock() { check_pt(pthread_mutex_lock(&m_), "pthread_mutex_lock"); }
    void unlock() { check_pt(pthread_mutex_unlock(&m_), "pthread_mutex_unlock"); }

private:
    pthread_mutex_t m_;
};

struct Account {
    SharedMutex mutex;
    long balance = kInitialBalance;  // protected by mutex
};

struct Bank {
    std::array<Account, kAccounts> accounts;
    std::array<long, kTellers> done_by{};  // each teller writes only its own slot
};

template <class T>
class SharedObject {
public:
    SharedObject() {
        void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        obj_ = new (p) T{};
    }
    ~SharedObject() {
        obj_->~T();
        munmap(obj_, sizeof(T));
    }
    SharedObject(const SharedObject&) = delete;
    SharedObject& operator=(const SharedObject&) = delete;
    T* operator->() const { return obj_; }
    T& operator*() const { return *obj_; }

private:
    T* obj_;
};

/// Moves `amount` from one account to another if the source can pay.
/// Both accounts stay locked for the whole check-and-move, and the locks are
/// always taken lowest index first: if teller A locked 1 then 3 while teller B
/// locked 3 then 1, each could hold one lock and wait forever for the other.
bool transfer(Bank& bank, int from, int to, long amount) {
    Account& first = bank.accounts[std::min(from, to)];
    Account& second = bank.accounts[std::max(from, to)];
    first.mutex.lock();
    second.mutex.lock();
    bool paid = false;
    if (bank.accounts[from].balance >= amount) {
        bank.accounts[from].balance -= amount;
        bank.accounts[to].balance += amount;
        paid = true;
    }
    second.mutex.unlock();
    first.mutex.unlock();
    return paid;
}

void teller(Bank& bank, int id) {
    std::mt19937 rng(static_cast<unsigned>(id) + 1);  // deterministic per teller
    std::uniform_int_distribution<int> pick(0, kAccounts - 1);
    std::uniform_int_distribution<long> money(1, 300);
    for (int i = 0; i < kTransfersPerTeller; ++i) {
        int from = pick(rng);
        int to = pick(rng);
        if (from == to) continue;
        if (transfer(bank, from, to, money(rng))) ++bank.done_by[id];
    }
}

void run_tellers(Bank& bank) {
    std::vector<pid_t> children;
    for (int id = 0; id < kTellers; ++id) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            teller(bank, id);
            std::exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        check(waitpid(pid, &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("teller failed");
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedObject<Bank> bank;
    const long total_before = kAccounts * kInitialBalance;
    std::cout << kAccounts << " accounts, total " << total_before << "; " << kTellers
              << " teller processes\n";

    run_tellers(*bank);

    long total_after = 0, done = 0;
    bool overdrawn = false;
    for (const Account& a : bank->accounts) {
        total_after += a.balance;
        overdrawn = overdrawn || a.balance < 0;
    }
    for (long n : bank->done_by) done += n;
    std::cout << "transfers completed: " << done << '\n';
    std::cout << "total after = " << total_after << " (expected " << total_before << ")"
              << (total_after == total_before ? ": no money created or lost\n"
                                              : ": INVARIANT BROKEN\n");
    std::cout << (overdrawn ? "some account is overdrawn\n"
                            : "no account is overdrawn\n");
    return total_after == total_before && !overdrawn ? 0 : 1;
}
