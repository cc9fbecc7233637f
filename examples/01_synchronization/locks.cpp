// locks.cpp - locks_broken.cpp fixed: a PTHREAD_PROCESS_SHARED mutex in the shared
// mapping guards the read-spin-write. Python: `with lock: shared.value += 1`.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <new>
#include <system_error>

constexpr int kWorkers = 4;
constexpr long kIncrements = 1000;  // per worker, as in locks_broken.cpp

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

struct Shared { pthread_mutex_t mutex; long counter = 0; };  // counter: guarded by mutex

// The body of each worker process: it ends here with _exit, and throws nothing.
[[noreturn]] void worker(Shared& s) {
    for (long i = 0; i < kIncrements; ++i) {
#ifndef BREAK_NO_LOCK  // "Break it" on the page: build with -DBREAK_NO_LOCK
        if (pthread_mutex_lock(&s.mutex) != 0) _exit(1);  // the parent sees status 1
#endif
        const long value = s.counter;  // the 20 us window of locks_broken...
        const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
        while (std::chrono::steady_clock::now() < end) {}
        s.counter = value + 1;  // ...but no other process can be inside it now
#ifndef BREAK_NO_LOCK
        if (pthread_mutex_unlock(&s.mutex) != 0) _exit(1);
#endif
    }
    _exit(0);
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(Shared)); } } unmap{p};
        Shared& s = *new (p) Shared{};
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),  // without it, a
                 "pthread_mutexattr_setpshared");  // waiter in another process is never woken
        check_pt(pthread_mutex_init(&s.mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
        struct Destroy { pthread_mutex_t* m; ~Destroy() { pthread_mutex_destroy(m); } } d{&s.mutex};
        Child workers[kWorkers];  // if a fork fails, the started ones are killed
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) worker(s);  // 20 ms of work each: the workers overlap
        }
        for (Child& w : workers) {  // each worker ends by itself
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("a worker failed");
        }
        const long expected = kWorkers * kIncrements;
        std::cout << kWorkers << " processes x " << kIncrements << " increments, one mutex: counter = "
                  << s.counter << " (expected " << expected << ")"
                  << (s.counter == expected ? ": no lost updates\n" : ": UPDATES LOST\n");
        return s.counter == expected ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "locks: " << e.what() << '\n';
        return 1;
    }
}
