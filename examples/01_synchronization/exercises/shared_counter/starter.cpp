// shared_counter (exercise, starter) - four processes add to one
// counter in shared memory; a process-shared mutex makes every update count.
// Python: Value('l', 0) and `with counter.get_lock(): counter.value += 1`.
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

namespace {

constexpr int kWorkers = 4;
constexpr long kIncrements = 25;  // per worker

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// In memory two processes share, an atomic must be lock-free: a library lock is per process.
static_assert(std::atomic<bool>::is_always_lock_free);
struct Shared {  // lives in a MAP_SHARED mapping, made before fork()
    pthread_mutex_t mutex;
    long counter = 0;  // guarded by mutex
    std::atomic<bool> go{false};  // start gate: the workers start together
    Shared() {
        pthread_mutexattr_t attr;
        check_pt(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pt(pthread_mutex_init(&mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~Shared() { pthread_mutex_destroy(&mutex); }
};

struct Mapping {  // owns the shared mapping and the object built in it
    Shared* shared;
    Mapping() {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        shared = new (p) Shared;
    }
    ~Mapping() { shared->~Shared(); ::munmap(shared, sizeof(Shared)); }
};

void add_one(Shared& s) {  // read, let others run, write: a slow update
    // TODO: four processes run this at once, and updates get lost. Make it safe
    // with the mutex (and make sure the mutex works across processes).
    const long value = s.counter;
    ::sched_yield();  // the window in which an unlocked update is lost
    s.counter = value + 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Mapping mapping;
        Shared& s = *mapping.shared;
        Child workers[kWorkers];
        std::cout.flush();  // the children must not inherit unprinted output
        for (Child& w : workers) {
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the child ends here, whatever happens
                int code = 1;
                try {
                    while (!s.go) ::sched_yield();
                    for (long i = 0; i < kIncrements; ++i) add_one(s);
                    code = 0;
                } catch (...) {}
                _exit(code);
            }
        }
        s.go = true;
        for (Child& w : workers) {
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;  // reaped
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                throw std::runtime_error("a worker failed");
        }
        const long expected = kWorkers * kIncrements;
        std::cout << "counter = " << s.counter << " (expected " << expected << ")"
                  << (s.counter == expected ? ": no lost updates" : ": updates LOST") << '\n';
        return s.counter == expected ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "shared_counter: " << e.what() << '\n';
        return 1;
    }
}
