// connection_pool.cpp — a semaphore with N units limits how many processes use a
// scarce resource at once: here 8 client processes share a "pool" of 3
// database connections. Every client records how many connections are in use
// while it holds one; the peak must never exceed 3.
//
// Python: Semaphore(3) and `with sem:` around the work (the seed's DatabasePool).
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <new>
#include <vector>

namespace {

constexpr int kSlots = 3;
constexpr int kClients = 8;
constexpr long kQueryNanos = 100'000'000;  // each "query" holds a connection 100 ms

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

struct Pool {
    sem_t free_slots;            // counts free connections
    std::atomic<int> in_use{0};  // measurement only, not part of the locking
    std::atomic<int> peak{0};
    std::atomic<int> served{0};
    std::atomic<int> ready{0};  // start gate: all clients ask at once
};

/// Owns the shared mapping with the pool and its semaphore.
class SharedPool {
public:
    SharedPool() {
        void* p = mmap(nullptr, sizeof(Pool), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        pool_ = new (p) Pool{};
        check(sem_init(&pool_->free_slots, 1, kSlots), "sem_init");
    }
    ~SharedPool() {
        sem_destroy(&pool_->free_slots);
        pool_->~Pool();
        munmap(pool_, sizeof(Pool));
    }
    SharedPool(const SharedPool&) = delete;
    SharedPool& operator=(const SharedPool&) = delete;
    Pool& operator*() const { return *pool_; }

private:
    Pool* pool_;
};

/// Holds one connection for its lifetime, like `with sem:` in Python.
class Connection {
public:
    explicit Connection(Pool& pool) : pool_(pool) {
        while (sem_wait(&pool_.free_slots) == -1)
            if (errno != EINTR) die("sem_wait");
        int now = pool_.in_use.fetch_add(1) + 1;
        int seen = pool_.peak.load();
        while (now > seen && !pool_.peak.compare_exchange_weak(seen, now)) {
        }
    }
    ~Connection() {
        pool_.in_use.fetch_sub(1);
        check(sem_post(&pool_.free_slots), "sem_post");  // give the slot back
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

private:
    Pool& pool_;
};

void client(Pool& pool) {
    pool.ready.fetch_add(1);
    while (pool.ready.load() < kClients) sched_yield();
    {
        Connection connection(pool);
        timespec query{0, kQueryNanos};
        nanosleep(&query, nullptr);  // "run a query"
    }
    pool.served.fetch_add(1);
}

void run_clients(Pool& pool) {
    std::vector<pid_t> children;
    for (int i = 0; i < kClients; ++i) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            client(pool);
            std::exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) {
        int status = 0;
        check(waitpid(pid, &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("client failed");
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedPool shared;
    Pool& pool = *shared;
    std::cout << kClients << " client processes, pool of " << kSlots
              << " connections\n";
    run_clients(pool);

    std::cout << "clients served: " << pool.served.load() << " of " << kClients << '\n';
    std::cout << "peak connections in use = " << pool.peak.load() << " (limit "
              << kSlots << ")"
              << (pool.peak.load() <= kSlots ? ": the limit held\n"
                                             : ": LIMIT EXCEEDED\n");
    return pool.served.load() == kClients && pool.peak.load() <= kSlots ? 0 : 1;
}
