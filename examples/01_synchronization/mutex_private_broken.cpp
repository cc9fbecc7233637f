// mutex_private_broken.cpp - broken on purpose: a mutex in shared memory, not marked
// PTHREAD_PROCESS_SHARED, uses *private* futexes: a child blocked on it is never woken
// when the parent unlocks it. The control: the same steps with the attribute set.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}
struct Child {  // owns a child: if we leave early, or it is stuck, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};
bool sleeping(pid_t pid) {  // state 'S' in /proc/<pid>/stat: blocked in the kernel
    std::string stat;
    std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/stat"), stat);
    const auto paren = stat.rfind(')');  // the name before it may contain spaces
    return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S';
}
template <class Pred>  // true once pred() holds; false if `limit` passes first
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    for (; !pred(); std::this_thread::sleep_for(std::chrono::milliseconds(5)))
        if (std::chrono::steady_clock::now() > end) return false;
    return true;
}
// The parent holds the mutex, a child blocks on it, the parent unlocks: does the child
// get it (and exit)? That takes microseconds; the control gets 5 s, the private mutex 1 s.
bool child_wakes(pthread_mutex_t& mutex, int pshared) {
    pthread_mutexattr_t attr;
    check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
    check_pt(pthread_mutexattr_setpshared(&attr, pshared), "pthread_mutexattr_setpshared");
    check_pt(pthread_mutex_init(&mutex, &attr), "pthread_mutex_init");
    pthread_mutexattr_destroy(&attr);
    struct Destroy { pthread_mutex_t* m; ~Destroy() { pthread_mutex_destroy(m); } } d{&mutex};
    check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
    std::cout.flush();  // else the child prints our buffer again
    Child child;  // declared after d: killed before the mutex is destroyed
    child.pid = check(::fork(), "fork");
    if (child.pid == 0) _exit(pthread_mutex_lock(&mutex));  // blocks: the parent holds it
    // Unlock once the child sleeps on the futex: sooner, it would find the mutex free.
    if (!wait_until([&] { return sleeping(child.pid); }, std::chrono::seconds(5)))
        throw std::runtime_error("the child never blocked on the mutex");
    check_pt(pthread_mutex_unlock(&mutex), "pthread_mutex_unlock");
    const bool woke = wait_until(  // WNOHANG: look, reap if it ended, never block
        [&] { return check(::waitpid(child.pid, nullptr, WNOHANG), "waitpid") != 0; },
        std::chrono::seconds(pshared == PTHREAD_PROCESS_SHARED ? 5 : 1));
    if (woke) child.pid = -1;  // reaped; else ~Child kills and reaps the blocked child
    return woke;
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
        auto& mutex = *static_cast<pthread_mutex_t*>(p);
        const bool private_woke = child_wakes(mutex, PTHREAD_PROCESS_PRIVATE);
        std::cout << "default (private) mutex: child "
                  << (private_woke ? "woke?!" : "still blocked 1 s after the unlock") << '\n';
        const bool shared_woke = child_wakes(mutex, PTHREAD_PROCESS_SHARED);
        std::cout << "PTHREAD_PROCESS_SHARED mutex: child "
                  << (shared_woke ? "woke and took the lock" : "still blocked?!") << '\n';
        return !private_woke && shared_woke ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "mutex_private_broken: " << e.what() << '\n';
        return 1;
    }
}
