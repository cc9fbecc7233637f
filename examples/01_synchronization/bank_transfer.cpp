// bank_transfer.cpp — processes move money between accounts in shared memory.
// Each account has its own process-shared mutex; a transfer locks both accounts
// in a fixed order (lower index first) so that two opposite transfers cannot
// deadlock. The invariant "total money never changes" is checked at the end.
//
// Python: the same program with one multiprocessing.Lock per account.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <iostream>
#include <mutex>
#include <new>
#include <random>
#include <system_error>

namespace {

constexpr int kAccounts = 5;
constexpr long kInitialBalance = 1000;
constexpr int kTellers = 4;  // processes
constexpr int kTransfersPerTeller = 20000;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// ANCHOR: accounts
// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

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
// ANCHOR_END: accounts

// ANCHOR: transfer
/// Moves `amount` from one account to another if the source can pay.
/// Both accounts stay locked for the whole check-and-move, and the locks are
/// always taken lowest index first: if teller A locked 1 then 3 while teller B
/// locked 3 then 1, each could hold one lock and wait forever for the other.
bool transfer(Bank& bank, int from, int to, long amount) {
    Account& first = bank.accounts[std::min(from, to)];
    Account& second = bank.accounts[std::max(from, to)];
    std::lock_guard hold_first(first.mutex);  // `with lock:`: unlocked at the end
    std::lock_guard hold_second(second.mutex);  // of the scope, even on an exception
    if (bank.accounts[from].balance < amount) return false;
    bank.accounts[from].balance -= amount;
    bank.accounts[to].balance += amount;
    return true;
}

int teller(Bank& bank, int id) {
    std::mt19937 rng(static_cast<unsigned>(id) + 1);  // deterministic per teller
    std::uniform_int_distribution<int> pick(0, kAccounts - 1);
    std::uniform_int_distribution<long> money(1, 300);
    for (int i = 0; i < kTransfersPerTeller; ++i) {
        int from = pick(rng);
        int to = pick(rng);
        if (from == to) continue;
        if (transfer(bank, from, to, money(rng))) ++bank.done_by[id];
    }
    return 0;
}
// ANCHOR_END: transfer

}  // namespace

// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(Bank), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(Bank)); } } unmap{p};
        Bank& bank = *new (p) Bank{};
        struct Destroy { Bank& b; ~Destroy() { b.~Bank(); } } destroy{bank};
        const long total_before = kAccounts * kInitialBalance;
        std::cout << kAccounts << " accounts, total " << total_before << "; " << kTellers
                  << " teller processes\n";

        Child tellers[kTellers];  // if a fork fails, the started ones are killed
        for (int id = 0; id < kTellers; ++id) {
            std::cout.flush();  // else the child prints our buffer again
            tellers[id].pid = check(::fork(), "fork");
            if (tellers[id].pid == 0) {  // the teller ends here, whatever happens
                int code = 1;
                try { code = teller(bank, id); } catch (...) {}
                _exit(code);
            }
        }
        bool ok = true;
        for (Child& t : tellers) {  // each teller ends by itself
            int status = 0;
            check(::waitpid(t.pid, &status, 0), "waitpid");
            t.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        long total_after = 0, done = 0;
        bool overdrawn = false;
        for (const Account& a : bank.accounts) {
            total_after += a.balance;
            overdrawn = overdrawn || a.balance < 0;
        }
        for (long n : bank.done_by) done += n;
        std::cout << "transfers completed: " << done << '\n'
                  << "total after = " << total_after << " (expected " << total_before << ")"
                  << (total_after == total_before ? ": no money created or lost\n"
                                                  : ": INVARIANT BROKEN\n")
                  << (overdrawn ? "some account is overdrawn\n" : "no account is overdrawn\n");
        return ok && total_after == total_before && !overdrawn ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "bank_transfer: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
