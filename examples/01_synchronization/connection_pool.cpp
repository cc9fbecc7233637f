// connection_pool.cpp - a semaphore with N units limits how many processes use a scarce
// resource at once: 8 client processes share a pool of 3 "database connections", and
// the peak in use must never exceed 3. Python: Semaphore(3), `with sem:` around the work.
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <iostream>
#include <new>
#include <system_error>

constexpr int kSlots = 3, kClients = 8;
// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};
// In memory two processes share, an atomic must be lock-free: a library lock is per process.
static_assert(std::atomic<int>::is_always_lock_free);
struct Pool {  // in a MAP_SHARED mapping. The atomics only measure; the semaphore limits.
    sem_t free_slots;  // counts free connections
    std::atomic<int> in_use{0}, peak{0};
};
// Holds one connection for its lifetime: Python's `with sem:`. It waits at
// most 5 s, so a client that died holding a slot cannot hang the others.
struct Connection {
    explicit Connection(Pool& pool) : pool(pool) {
        timespec deadline{};
        ::clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += 5;
        while (::sem_clockwait(&pool.free_slots, CLOCK_MONOTONIC, &deadline) == -1)
            if (errno != EINTR) check(-1, "sem_clockwait");  // ETIMEDOUT throws too
        const int now = pool.in_use.fetch_add(1) + 1;
        for (int seen = pool.peak.load(); now > seen && !pool.peak.compare_exchange_weak(seen, now);) {}
    }
    ~Connection() { pool.in_use.fetch_sub(1), ::sem_post(&pool.free_slots); }  // give it back
    Pool& pool;
};

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(Pool), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(Pool)); } } unmap{p};
        Pool& pool = *new (p) Pool{};
        check(::sem_init(&pool.free_slots, 1, kSlots), "sem_init");  // pshared = 1
        struct Destroy { sem_t* s; ~Destroy() { ::sem_destroy(s); } } destroy{&pool.free_slots};
        Child clients[kClients];  // if a fork fails, the started ones are killed
        for (Child& c : clients) {
            std::cout.flush();  // else the child prints our buffer again
            c.pid = check(::fork(), "fork");
            if (c.pid != 0) continue;
            try {  // the client ends here, whatever happens
                Connection connection(pool);
                timespec query{0, 100'000'000};
                ::nanosleep(&query, nullptr);  // "run a query" for 100 ms
            } catch (const std::exception& e) {
                std::cerr << "connection_pool (client): " << e.what() << '\n';
                _exit(1);
            }
            _exit(0);
        }
        int served = 0;
        for (Child& c : clients) {  // each client ends by itself within about 5 s
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;
            served += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        const int peak = pool.peak.load();
        std::cout << kClients << " clients, " << kSlots << " connections: " << served << " served, peak in use = "
                  << peak << (peak <= kSlots ? ": the limit held\n" : ": LIMIT EXCEEDED\n");
        return served == kClients && peak <= kSlots ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "connection_pool: " << e.what() << '\n';
        return 1;
    }
}
