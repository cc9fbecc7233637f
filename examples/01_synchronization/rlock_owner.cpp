// rlock_owner.cpp - a recursive, process-shared mutex as another process sees it
// (Python: multiprocessing.RLock). Only the owner may release it, and after n
// acquires it stays held until the owner has released it n times.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <system_error>

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// Runs probe() in a child and returns the error number it found: the lock as
// another process sees it. The probes never block, so the wait is bounded.
int in_other_process(int (*probe)(pthread_mutex_t&), pthread_mutex_t& m) {
    std::cout.flush();  // else the child prints our buffer again
    const pid_t pid = check(::fork(), "fork");
    if (pid == 0) _exit(probe(m));  // the child ends here: probe() cannot throw
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}
int try_unlock(pthread_mutex_t& m) { return pthread_mutex_unlock(&m); }
int try_lock(pthread_mutex_t& m) {
    const int rc = pthread_mutex_trylock(&m);
    if (rc == 0) pthread_mutex_unlock(&m);
    return rc;
}

const char* errname(int err) {
    return err == 0 ? "0 (success)" : err == EBUSY ? "EBUSY" : err == EPERM ? "EPERM"
                                                   : std::strerror(err);
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(pthread_mutex_t), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(pthread_mutex_t)); } } unmap{p};
        auto& m = *static_cast<pthread_mutex_t*>(p);
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared");
        check_pt(pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE), "pthread_mutexattr_settype");
        check_pt(pthread_mutex_init(&m, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
        struct Destroy { pthread_mutex_t* m; ~Destroy() { pthread_mutex_destroy(m); } } d{&m};

        check_pt(pthread_mutex_lock(&m), "pthread_mutex_lock");
        check_pt(pthread_mutex_lock(&m), "pthread_mutex_lock");  // count 2
        int rc = in_other_process(try_unlock, m);
        std::cout << "another process tries to unlock it: " << errname(rc)
                  << " (only the owner may release)\n";
        bool ok = rc == EPERM;
        rc = in_other_process(try_lock, m);
        std::cout << "held twice, other process try_lock: " << errname(rc) << '\n';
        ok = ok && rc == EBUSY;
        check_pt(pthread_mutex_unlock(&m), "pthread_mutex_unlock");  // count 1
        rc = in_other_process(try_lock, m);
        std::cout << "released once, other process try_lock: " << errname(rc) << " (still held)\n";
        ok = ok && rc == EBUSY;
        check_pt(pthread_mutex_unlock(&m), "pthread_mutex_unlock");  // count 0: free
        rc = in_other_process(try_lock, m);
        std::cout << "released twice, other process try_lock: " << errname(rc) << '\n';
        ok = ok && rc == 0;
        std::cout << (ok ? "recursive mutex behaves like Python's RLock\n" : "UNEXPECTED BEHAVIOUR\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "rlock_owner: " << e.what() << '\n';
        return 1;
    }
}
