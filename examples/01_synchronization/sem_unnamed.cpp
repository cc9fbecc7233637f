// sem_unnamed.cpp - an unnamed POSIX semaphore shared by a parent and its
// children: a sem_t in a MAP_SHARED mapping, initialised with pshared = 1.
// Three children post "done"; the parent waits for three posts, each with a
// time-out on the monotonic clock, because a child that died never posts.
// Python: multiprocessing.Semaphore, inherited by the children.
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <iostream>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// An unnamed semaphore in its own shared mapping (see the chapter's first page).
class SharedSemaphore {
public:
    explicit SharedSemaphore(unsigned initial) {
        void* p = ::mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        sem_ = static_cast<sem_t*>(p);
        // pshared = 1: several processes use it, so it must be in shared memory.
        if (::sem_init(sem_, 1, initial) == -1) {
            const int err = errno;
            ::munmap(p, sizeof(sem_t));
            throw std::system_error(err, std::generic_category(), "sem_init");
        }
    }
    ~SharedSemaphore() {
        ::sem_destroy(sem_);
        ::munmap(sem_, sizeof(sem_t));
    }
    SharedSemaphore(const SharedSemaphore&) = delete;

    void post() { check(::sem_post(sem_), "sem_post"); }

    // Python: acquire(timeout=ms/1000). sem_clockwait (glibc 2.30) takes a
    // CLOCK_MONOTONIC deadline, which setting the wall clock cannot move;
    // sem_timedwait knows only CLOCK_REALTIME.
    bool acquire_for(long ms) {
        timespec deadline{};
        ::clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += ms / 1000;
        deadline.tv_nsec += (ms % 1000) * 1'000'000;
        if (deadline.tv_nsec >= 1'000'000'000) { ++deadline.tv_sec; deadline.tv_nsec -= 1'000'000'000; }
        while (::sem_clockwait(sem_, CLOCK_MONOTONIC, &deadline) == -1) {
            if (errno == ETIMEDOUT) return false;
            if (errno != EINTR) check(-1, "sem_clockwait");  // EINTR: a signal, retry
        }
        return true;
    }

private:
    sem_t* sem_;
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        SharedSemaphore done(0);  // 0: "nothing finished yet"
        Child children[3];        // after `done`: killed and reaped before it goes
        for (Child& c : children) {
            std::cout.flush();  // else the child prints our buffer again
            c.pid = check(::fork(), "fork");
            if (c.pid == 0) {  // the child ends here, whatever happens
                int code = 1;
#ifndef BREAK_NO_POST  // "Break it" on the page: build with -DBREAK_NO_POST
                try { done.post(); code = 0; } catch (...) {}  // "my work is finished"
#else
                code = 0;  // the work is finished, but nobody is told
#endif
                _exit(code);
            }
        }
        int received = 0;
        while (received < 3 && done.acquire_for(5000)) ++received;
        bool ok = received == 3;
        for (Child& c : children) {  // each child ends by itself
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::cout << "unnamed sem_t: parent received " << received << " posts from 3 children\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sem_unnamed: " << e.what() << '\n';
        return 1;
    }
}
