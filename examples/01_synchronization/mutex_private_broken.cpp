// mutex_private_broken.cpp - broken on purpose: a pthread mutex in shared memory
// but without PTHREAD_PROCESS_SHARED. On Linux it does not "appear to work":
// glibc then uses *private* futexes, whose wake-ups stay inside one process.
// A child blocked on the mutex is never woken when the parent unlocks it.
// The same steps with PTHREAD_PROCESS_SHARED are the control: the child wakes.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <new>
#include <string>
#include <system_error>
#include <thread>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, or it is stuck, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct Shared {
    pthread_mutex_t mutex;
    std::atomic<int> stage{0};  // 1: the child is about to lock, 2: it got the lock
};

bool sleeping(pid_t pid) {  // state 'S' in /proc/<pid>/stat: blocked in the kernel
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'S';
}

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

// The parent holds the mutex; a child blocks on it; the parent unlocks.
// True if the child then got the lock. It needs microseconds; we give the
// control 5 s and the private mutex 1 s, then kill the child still blocked.
bool child_wakes(Shared& s, bool process_shared) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (process_shared) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    const int err = pthread_mutex_init(&s.mutex, &attr);
    if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_mutex_init");
    s.stage = 0;
    pthread_mutex_lock(&s.mutex);

    std::cout.flush();  // else the child prints our buffer again
    Child child;
    child.pid = check(::fork(), "fork");
    if (child.pid == 0) {  // the child ends here with _exit, whatever happens
        s.stage = 1;
        pthread_mutex_lock(&s.mutex);  // blocks: the parent holds it
        s.stage = 2;
        pthread_mutex_unlock(&s.mutex);
        _exit(0);
    }
    // Unlock only once the child sleeps in the kernel on the futex; sooner, it
    // would simply find the mutex free and prove nothing.
    const bool blocked = wait_until([&] { return s.stage == 1 && sleeping(child.pid); },
                                    std::chrono::seconds(5));
    pthread_mutex_unlock(&s.mutex);
    const bool woke = blocked && wait_until([&] { return s.stage == 2; },
                                            std::chrono::seconds(process_shared ? 5 : 1));
    if (woke) {
        check(::waitpid(child.pid, nullptr, 0), "waitpid");  // it ends by itself
        child.pid = -1;
    }  // else ~Child kills and reaps the child that is still blocked
    pthread_mutex_destroy(&s.mutex);
    if (!blocked) throw std::runtime_error("the child never blocked on the mutex");
    return woke;
}

}  // namespace

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

        const bool private_woke = child_wakes(s, false);
        std::cout << "default (private) mutex: child "
                  << (private_woke ? "woke?!" : "still blocked 1 s after the unlock") << '\n';
        const bool shared_woke = child_wakes(s, true);
        std::cout << "PTHREAD_PROCESS_SHARED mutex: child "
                  << (shared_woke ? "woke and took the lock" : "still blocked?!") << '\n';
        return !private_woke && shared_woke ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "mutex_private_broken: " << e.what() << '\n';
        return 1;
    }
}
