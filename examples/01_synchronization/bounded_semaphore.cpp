// bounded_semaphore.cpp — a plain semaphore lets a buggy process release more
// than was acquired, silently raising the limit. Python's BoundedSemaphore
// raises ValueError instead. POSIX has no bounded semaphore, so we build one
// from two semaphores whose sum is always N:
//     free  — units that may be acquired     (starts at N)
//     taken — units that may be released     (starts at 0)
// acquire = wait(free), post(taken); release = trywait(taken), post(free).
// A release with nothing taken finds `taken` at zero: detected, atomically,
// with no check-then-act race between processes.
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <stdexcept>
#include <utility>

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

void wait_retrying(sem_t* s) {
    while (sem_wait(s) == -1)
        if (errno != EINTR) die("sem_wait");
}

/// Lives in shared memory; usable from every process that maps it.
class BoundedSemaphore {
public:
    explicit BoundedSemaphore(unsigned limit) {
        check(sem_init(&free_, 1, limit), "sem_init");
        check(sem_init(&taken_, 1, 0), "sem_init");
    }
    ~BoundedSemaphore() {
        sem_destroy(&free_);
        sem_destroy(&taken_);
    }
    BoundedSemaphore(const BoundedSemaphore&) = delete;
    BoundedSemaphore& operator=(const BoundedSemaphore&) = delete;

    void acquire() {
        wait_retrying(&free_);
        check(sem_post(&taken_), "sem_post");
    }
    /// Throws std::logic_error (Python: ValueError) if nothing is held.
    void release() {
        if (sem_trywait(&taken_) == -1) {
            if (errno == EAGAIN)
                throw std::logic_error("semaphore released too many times");
            die("sem_trywait");
        }
        check(sem_post(&free_), "sem_post");
    }
    int available() {
        int v = 0;
        check(sem_getvalue(&free_, &v), "sem_getvalue");
        return v;
    }

private:
    sem_t free_;
    sem_t taken_;
};

/// Owns an anonymous MAP_SHARED mapping holding one T constructed from args.
template <class T>
class SharedObject {
public:
    template <class... Args>
    explicit SharedObject(Args&&... args) {
        void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        obj_ = new (p) T(std::forward<Args>(args)...);
    }
    ~SharedObject() {
        obj_->~T();
        munmap(obj_, sizeof(T));
    }
    SharedObject(const SharedObject&) = delete;
    SharedObject& operator=(const SharedObject&) = delete;
    T& operator*() const { return *obj_; }

private:
    T* obj_;
};

/// The problem: an ordinary semaphore counts past its initial value.
int plain_semaphore_after_extra_posts() {
    sem_t sem;  // used by this process only, so it may live on the stack
    check(sem_init(&sem, 0, 2), "sem_init");
    for (int i = 0; i < 3; ++i)
        check(sem_post(&sem), "sem_post");  // 3 releases, 0 acquires
    int value = 0;
    check(sem_getvalue(&sem, &value), "sem_getvalue");
    sem_destroy(&sem);
    return value;
}

/// A worker process with a bug: it releases twice. Exit status 3 = detected.
int buggy_worker(BoundedSemaphore& sem) {
    sem.acquire();
    sem.release();
    try {
        sem.release();  // the bug
    } catch (const std::logic_error& e) {
        std::cout << "worker process: second release refused: " << e.what() << '\n';
        return 3;
    }
    return 0;
}

/// Runs buggy_worker() in a child process; true if the over-release was caught.
bool over_release_detected_in_child(BoundedSemaphore& sem) {
    std::cout.flush();
    pid_t pid = check(fork(), "fork");
    if (pid == 0) {
        int code = buggy_worker(sem);
        std::cout.flush();
        std::exit(code);
    }
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 3;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    int plain = plain_semaphore_after_extra_posts();
    std::cout << "plain semaphore(2) after 3 extra releases: value = " << plain
              << " (the limit silently became " << plain << ")\n";

    SharedObject<BoundedSemaphore> shared(2u);
    bool detected = over_release_detected_in_child(*shared);
    int available = (*shared).available();
    std::cout << "bounded semaphore(2): over-release "
              << (detected ? "detected" : "NOT detected")
              << "; available = " << available
              << " (limit 2 kept: " << (available == 2 ? "yes" : "no") << ")\n";
    return plain == 5 && detected && available == 2 ? 0 : 1;
}
