// sem_unnamed.cpp - an unnamed POSIX semaphore shared by a parent and its
// children (Python: multiprocessing.Semaphore, inherited by the children): a
// sem_t in a MAP_SHARED mapping, initialised with pshared = 1. Three children
// post "done"; the parent waits for three posts, each with a time-out on the
// monotonic clock, because a child that died never posts.
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
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// Python: acquire(timeout=ms/1000). sem_clockwait (glibc 2.30) takes a
// CLOCK_MONOTONIC deadline, which setting the wall clock cannot move;
// sem_timedwait knows only CLOCK_REALTIME.
bool acquire_for(sem_t* sem, long ms) {
    timespec deadline{};
    ::clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += ms % 1000 * 1'000'000;
    deadline.tv_sec += ms / 1000 + deadline.tv_nsec / 1'000'000'000;
    deadline.tv_nsec %= 1'000'000'000;
    while (::sem_clockwait(sem, CLOCK_MONOTONIC, &deadline) == -1) {
        if (errno == ETIMEDOUT) return false;
        if (errno != EINTR) check(-1, "sem_clockwait");  // EINTR: a signal, retry
    }
    return true;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(sem_t)); } } unmap{p};
        sem_t* done = static_cast<sem_t*>(p);
        // pshared = 1: several processes use it, so it must be in shared memory.
        check(::sem_init(done, 1, 0), "sem_init");  // 0: "nothing finished yet"
        struct Destroy { sem_t* s; ~Destroy() { ::sem_destroy(s); } } destroy{done};
        Child children[3];  // after `destroy`: killed and reaped before it runs
        for (Child& c : children) {
            std::cout.flush();  // else the child prints our buffer again
            c.pid = check(::fork(), "fork");
            if (c.pid == 0) {  // the child ends here, whatever happens
#ifndef BREAK_NO_POST  // "Break it" on the page: build with -DBREAK_NO_POST
                _exit(::sem_post(done) == 0 ? 0 : 1);  // "my work is finished"
#else
                _exit(0);  // the work is finished, but nobody is told
#endif
            }
        }
        int received = 0;
        while (received < 3 && acquire_for(done, 5000)) ++received;
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
