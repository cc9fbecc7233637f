// ANCHOR: bounded
// bounded_semaphore.cpp - a plain semaphore lets a buggy process release more
// than it acquired, silently raising the limit; Python's BoundedSemaphore raises
// ValueError instead. POSIX has none, so we build one from two semaphores whose
// values always add up to N: `free` (units that may be acquired, starts at N) and
// `taken` (units that may be released, starts at 0). A release with nothing
// taken finds `taken` at 0: sem_trywait detects it in one atomic step.
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <new>
#include <stdexcept>
#include <system_error>

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class BoundedSemaphore {  // in a MAP_SHARED mapping: for every process that maps it
    sem_t free_, taken_;

public:
    explicit BoundedSemaphore(unsigned limit) {
        check(::sem_init(&free_, 1, limit), "sem_init");  // pshared = 1
        check(::sem_init(&taken_, 1, 0), "sem_init");
    }
    ~BoundedSemaphore() { ::sem_destroy(&free_); ::sem_destroy(&taken_); }
    void acquire() {
        while (::sem_wait(&free_) == -1)
            if (errno != EINTR) check(-1, "sem_wait");  // EINTR: a signal, retry
        check(::sem_post(&taken_), "sem_post");
    }
    void release() {  // throws std::logic_error (Python: ValueError) if nothing is held
        if (::sem_trywait(&taken_) == -1) {
            if (errno == EAGAIN) throw std::logic_error("semaphore released too many times");
            check(-1, "sem_trywait");
        }
        check(::sem_post(&free_), "sem_post");
    }
    int available() {
        int v = 0;
        check(::sem_getvalue(&free_, &v), "sem_getvalue");
        return v;
    }
};
// ANCHOR_END: bounded
// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        sem_t plain;  // used by this process only (pshared = 0): the stack is fine
        check(::sem_init(&plain, 0, 2), "sem_init");
        for (int i = 0; i < 3; ++i) check(::sem_post(&plain), "sem_post");  // 3 extra releases
        int value = 0;
        check(::sem_getvalue(&plain, &value), "sem_getvalue");
        ::sem_destroy(&plain);
        std::cout << "plain semaphore(2) after 3 extra releases: value = " << value
                  << " (the limit silently became " << value << ")\n";
        void* p = ::mmap(nullptr, sizeof(BoundedSemaphore), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(BoundedSemaphore)); } } unmap{p};
        BoundedSemaphore& sem = *new (p) BoundedSemaphore(2);
        struct Destroy { BoundedSemaphore& s; ~Destroy() { s.~BoundedSemaphore(); } } destroy{sem};
        std::cout.flush();  // else the child prints our buffer again
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // a worker with a bug: it releases twice; it ends here, whatever happens
            int code = 1;  // 3: the second release was refused
            try {
                sem.acquire(); sem.release(); sem.release();  // the second release: the bug
            } catch (const std::logic_error& e) {
                std::cout << "worker process: second release refused: " << e.what() << '\n';
                code = 3;
            } catch (...) {}
            std::cout.flush();
            _exit(code);
        }
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");  // the child ends by itself
        const bool refused = WIFEXITED(status) && WEXITSTATUS(status) == 3;
        const int available = sem.available();
        std::cout << "bounded semaphore(2): over-release " << (refused ? "refused" : "NOT refused")
                  << "; available = " << available << " (limit 2 kept: "
                  << (available == 2 ? "yes" : "no") << ")\n";
        return value == 5 && refused && available == 2 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "bounded_semaphore: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
