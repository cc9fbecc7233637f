// bank_transfer.cpp - tellers (processes) move money between accounts in shared memory,
// one process-shared mutex per account, both locked in one fixed order: no deadlock,
// and the total never changes. Python: one multiprocessing.Lock per account.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <mutex>
#include <new>
#include <random>
#include <system_error>

constexpr int kAccounts = 5, kTellers = 4, kTransfers = 20000;  // transfers per teller
constexpr long kTotal = kAccounts * 1000L;                      // 1000 in each account

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct SharedMutex {  // process-shared, with lock() and unlock(): std::lock_guard holds it
    pthread_mutex_t m;
    SharedMutex() {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared");
        check_pt(pthread_mutex_init(&m, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~SharedMutex() { pthread_mutex_destroy(&m); }
    void lock() { check_pt(pthread_mutex_lock(&m), "pthread_mutex_lock"); }
    void unlock() { pthread_mutex_unlock(&m); }  // cannot fail: we hold it
};
struct Account { SharedMutex mutex; long balance = kTotal / kAccounts; };  // guarded
struct Bank { Account accounts[kAccounts]; };  // built in a MAP_SHARED mapping

// Moves `amount` if the source can pay, both accounts locked for the whole check-and-
// move, always lower index first: had teller A locked 1 then 3 while teller B locked
// 3 then 1, each could hold one lock and wait for ever for the other.
void transfer(Account* accounts, int from, int to, long amount) {
    if (from == to) return;
    std::lock_guard first(accounts[std::min(from, to)].mutex);  // `with lock:`, so
    std::lock_guard second(accounts[std::max(from, to)].mutex);  // unlocked at `}`
    if (accounts[from].balance < amount) return;
    accounts[from].balance -= amount;
    accounts[to].balance += amount;
}

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
        Child tellers[kTellers];  // if a fork fails, the started ones are killed
        for (unsigned id = 0; id < kTellers; ++id) {
            std::cout.flush();  // else the child prints our buffer again
            tellers[id].pid = check(::fork(), "fork");
            if (tellers[id].pid != 0) continue;
            try {  // the teller ends here, whatever happens
                std::mt19937 rng(id + 1);  // deterministic per teller
                for (int i = 0; i < kTransfers; ++i)
                    transfer(bank.accounts, rng() % kAccounts, rng() % kAccounts, 1 + rng() % 300);
            } catch (...) { _exit(1); }
            _exit(0);
        }
        for (Child& t : tellers) {  // each teller ends by itself
            int status = 0;
            check(::waitpid(t.pid, &status, 0), "waitpid");
            t.pid = -1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("a teller failed");
        }
        long total = 0, lowest = kTotal;
        for (const Account& a : bank.accounts) total += a.balance, lowest = std::min(lowest, a.balance);
        std::cout << kTellers << " tellers, " << kAccounts << " accounts: total = " << total
                  << " (expected " << kTotal << ")"
                  << (total == kTotal ? ": no money created or lost\n" : ": INVARIANT BROKEN\n")
                  << (lowest < 0 ? "some account is overdrawn\n" : "no account is overdrawn\n");
        return total == kTotal && lowest >= 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "bank_transfer: " << e.what() << '\n';
        return 1;
    }
}
