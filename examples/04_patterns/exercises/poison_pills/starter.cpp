// poison_pills (exercise, starter) - two producers fill a bounded queue in shared
// memory, three consumers empty it, and the parent stops the consumers with poison
// pills. Fill in the two TODOs.
// Python: Queue(maxsize=8), producers and consumers, None as the pill.
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr int kSlots = 8, kProducers = 2, kConsumers = 3;
[[maybe_unused]] constexpr long kPill = 0;  // never a real item: the items are 1, 2, 3, ...

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// A ring buffer guarded by three process-shared semaphores: free slots, used
// slots, and a lock. A wait gives up after 5 s and throws, so a process that
// waits for something that never comes ends instead of hanging.
struct Queue {
    sem_t free, used, lock;
    long puts = 0, gets = 0, slots[kSlots] = {};  // the next slot: count % kSlots
    Queue() {  // pshared = 1: the semaphores work across fork()
        check(sem_init(&free, 1, kSlots), "sem_init");
        check(sem_init(&used, 1, 0), "sem_init");
        check(sem_init(&lock, 1, 1), "sem_init");
    }
    static void wait(sem_t& s, const char* why) {
        timespec until{};
        check(clock_gettime(CLOCK_REALTIME, &until), "clock_gettime");
        until.tv_sec += 5;
        while (sem_timedwait(&s, &until) == -1)
            if (errno == ETIMEDOUT) throw std::runtime_error(why);
            else if (errno != EINTR) check(-1, "sem_timedwait");
    }
    static void post(sem_t& s) { check(sem_post(&s), "sem_post"); }
    void put(long item) {
        wait(free, "put: the queue stayed full for 5 s"), wait(lock, "put: lock");
        slots[puts++ % kSlots] = item;
        post(lock), post(used);
    }
    long get() {
        wait(used, "get: the queue stayed empty for 5 s"), wait(lock, "get: lock");
        const long item = slots[gets++ % kSlots];
        post(lock), post(free);
        return item;
    }
};

struct Shared {  // in a MAP_SHARED mapping made before fork(): every process sees it
    Queue queue;
    long taken[kConsumers] = {}, sum[kConsumers] = {};  // consumer c writes only [c]
};
struct Mapping {  // owns the mapping and the object built in it
    Shared* shared;
    Mapping() {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        shared = new (p) Shared;
    }
    ~Mapping() { ::munmap(shared, sizeof(Shared)); }
};

struct Child {  // a forked child running body(); killed and reaped if we leave early
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        pid = check(::fork(), "fork");
        if (pid != 0) return;
        int code = 1;  // the child ends here, whatever happens
        try {
            body();
            code = 0;
        } catch (const std::exception& e) {  // one write: children failing at once don't mix lines
            std::cerr << std::string(e.what()) + '\n';
        }
        _exit(code);
    }
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // bounded: every wait in a child gives up after 5 s
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

void produce(Queue& q, int p, long n) {  // producer p: items p*n+1 .. p*n+n
    for (long i = 1; i <= n; ++i) q.put(p * n + i);
}
void consume([[maybe_unused]] Shared& s, [[maybe_unused]] int c) {
    // TODO (each consumer): take items with s.queue.get() until one is a pill
    // (kPill); count each real item in s.taken[c] and add it to s.sum[c].
}

}  // namespace

int main(int argc, char* argv[]) {
    const long n = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
    if (argc != 2 || n <= 0 || n > 1'000'000) {
        std::cerr << "usage: " << argv[0] << " ITEMS_PER_PRODUCER (1..1000000)\n";
        return 2;
    }
    try {
        Mapping mapping;
        Shared& s = *mapping.shared;
        std::cout << "queue: " << kSlots << " slots in shared memory; " << kProducers
                  << " producers x " << n << " items, " << kConsumers << " consumers\n";
        std::vector<Child> consumers, producers;  // destroyed before the mapping
        for (int c = 0; c < kConsumers; ++c) consumers.emplace_back([&s, c] { consume(s, c); });
        for (int p = 0; p < kProducers; ++p) producers.emplace_back([&s, p, n] { produce(s.queue, p, n); });
        int finished = 0, stopped = 0;
        for (auto& p : producers) finished += p.wait();
        std::cout << "producers finished: " << finished << " of " << kProducers << '\n';
        // TODO (the parent): stop the consumers. How many pills, and why only here?
        for (auto& c : consumers) stopped += c.wait();
        std::cout << "consumers stopped by a pill: " << stopped << " of " << kConsumers << '\n';
        long taken = 0, sum = 0;
        for (int c = 0; c < kConsumers; ++c) {
            std::cout << "consumer " << c << " took " << s.taken[c] << " items\n";
            taken += s.taken[c], sum += s.sum[c];
        }
        const long items = kProducers * n, expected = items * (items + 1) / 2;
        std::cout << "items taken: " << taken << " (expected " << items << ")\n"
                  << "sum of items: " << sum << " (expected " << expected << ")\n";
        return finished == kProducers && stopped == kConsumers && taken == items && sum == expected
                   ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "poison_pills: " << e.what() << '\n';
        return 1;
    }
}
