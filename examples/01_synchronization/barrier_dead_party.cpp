// barrier_dead_party.cpp - a pthread barrier has no time-out and no "broken"
// state (Python's Barrier has wait(timeout) and BrokenBarrierError): when one of
// three parties dies before it arrives, the other two wait for ever. The parent
// sees them still waiting, kills them, and does not destroy the barrier.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(pthread_barrier_t), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(pthread_barrier_t)); } } unmap{p};
        auto* barrier = static_cast<pthread_barrier_t*>(p);
        pthread_barrierattr_t attr;
        pthread_barrierattr_init(&attr);
        pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (int err = pthread_barrier_init(barrier, &attr, 3))  // three parties
            throw std::system_error(err, std::generic_category(), "pthread_barrier_init");

        Child parties[3];  // after the mapping: killed and reaped before it goes
        for (int i = 0; i < 3; ++i) {
            std::cout.flush();  // else the child prints our buffer again
            parties[i].pid = check(::fork(), "fork");
            if (parties[i].pid == 0) {  // the party ends here, whatever happens
                if (i == 2) _exit(3);   // dies before it reaches the barrier
                ::alarm(10);            // if the parent dies too, SIGALRM ends us
                pthread_barrier_wait(barrier);  // for ever: the third never comes
                _exit(0);
            }
        }
        int status = 0;
        check(::waitpid(parties[2].pid, &status, 0), "waitpid");  // it ends at once
        parties[2].pid = -1;
        ::usleep(200'000);
        int waiting = 0;
        for (int i = 0; i < 2; ++i)  // 0: still running, blocked in the barrier
            waiting += check(::waitpid(parties[i].pid, &status, WNOHANG), "waitpid") == 0;
        std::cout << "one party died; 200 ms later, still waiting at the barrier: " << waiting
                  << " of 2\n";
        for (int i = 0; i < 2; ++i) {  // what the owners would do if we left now
            check(::kill(parties[i].pid, SIGKILL), "kill");
            check(::waitpid(parties[i].pid, &status, 0), "waitpid");
            parties[i].pid = -1;
        }
        // No pthread_barrier_destroy: glibc's waits until every party has left
        // the barrier, and the two we killed never will. The memory goes with the mapping.
        std::cout << "killed and reaped them; the barrier is left undestroyed\n";
        return waiting == 2 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "barrier_dead_party: " << e.what() << '\n';
        return 1;
    }
}
