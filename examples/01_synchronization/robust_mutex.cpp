// robust_mutex.cpp - a process dies holding a lock: an ordinary mutex would make every
// other process wait for ever. A robust one hands the lock to the next locker with the
// news, EOWNERDEAD: it repairs the data, calls pthread_mutex_consistent, and all carry
// on. Python: multiprocessing.Lock has no such thing.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// In a MAP_SHARED mapping: data whose invariant, a + b == 100, an update breaks a while.
struct Ledger { pthread_mutex_t mutex; int a = 100, b = 0; };

// Locks; if the owner died, repairs the data first. Returns true if it had to.
bool lock_and_recover(Ledger& l) {
    const int rc = pthread_mutex_lock(&l.mutex);
    if (rc != EOWNERDEAD) return check_pt(rc, "pthread_mutex_lock"), false;  // 0: no news
    // We hold the lock now, but the data may be half-updated.
    std::cout << "pthread_mutex_lock returned EOWNERDEAD: a = " << l.a << ", b = " << l.b
              << (l.a + l.b == 100 ? " (consistent)\n" : " (a + b != 100: broken)\n");
    l.b = 100 - l.a;  // the repair; a real program might replay a journal
    // Without this call the unlock makes the mutex unusable (ENOTRECOVERABLE).
    check_pt(pthread_mutex_consistent(&l.mutex), "pthread_mutex_consistent");
    std::cout << "repaired to a = " << l.a << ", b = " << l.b << "; pthread_mutex_consistent\n";
    return true;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(Ledger), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(Ledger)); } } unmap{p};
        Ledger& l = *new (p) Ledger{};
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared");
        // Robust: glibc keeps a list of the robust mutexes a thread holds in the thread's
        // own memory and tells the kernel where (set_robust_list(2)). When the thread
        // dies, however it dies, the kernel walks that list and marks each "owner died".
        check_pt(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST), "pthread_mutexattr_setrobust");
        check_pt(pthread_mutex_init(&l.mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
        struct Destroy { pthread_mutex_t* m; ~Destroy() { pthread_mutex_destroy(m); } } d{&l.mutex};

        std::cout.flush();  // else the child inherits our buffer and prints it again
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the child locks, does step 1 of 2, and is gone: no unlock, no clean-up
            if (pthread_mutex_lock(&l.mutex) == 0) l.a -= 30;
            ::raise(SIGKILL);
            _exit(3);  // not reached
        }
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");  // it ends by itself, by SIGKILL
        const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        std::cout << "child " << (killed ? "killed by SIGKILL" : "ended otherwise?!")
                  << " while holding the lock\n";
        const bool repaired = lock_and_recover(l);  // must see EOWNERDEAD
        check_pt(pthread_mutex_unlock(&l.mutex), "pthread_mutex_unlock");
        const bool again = lock_and_recover(l);  // the mutex is an ordinary one again
        l.a -= 10, l.b += 10;
        check_pt(pthread_mutex_unlock(&l.mutex), "pthread_mutex_unlock");
        std::cout << "next lock returned 0 and moved 10: " << (again ? "NO" : "yes")
                  << "; a = " << l.a << ", b = " << l.b
                  << (l.a + l.b == 100 ? ", a + b = 100\n" : ", INVARIANT BROKEN\n");
        return killed && repaired && !again && l.a + l.b == 100 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "robust_mutex: " << e.what() << '\n';
        return 1;
    }
}
