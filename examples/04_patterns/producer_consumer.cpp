// producer_consumer.cpp - a bounded queue in shared memory, shared by several
// producer and consumer processes, shut down with poison pills.
//
// Python: multiprocessing.Queue(maxsize=8) + put()/get() + a None "pill" per consumer.
// C++/Linux: a ring buffer in a MAP_SHARED mapping guarded by a process-shared mutex
// and two process-shared condition variables ("not full", "not empty").
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <new>
#include <string_view>
#include <vector>

namespace {

constexpr int kCapacity = 8;            // slots in the bounded queue
constexpr int kProducers = 3;
constexpr int kConsumers = 2;
constexpr int kItemsPerProducer = 2000;
constexpr int kTotalItems = kProducers * kItemsPerProducer;
constexpr long kPoisonPill = -1;        // never a real item: items are 0..kTotalItems-1

[[noreturn]] void die(const char* what, int err) {
    std::fprintf(stderr, "%s: %s\n", what, std::strerror(err));
    std::exit(1);
}
void check(int rc, const char* what) {      // pthread_* return the error code
    if (rc != 0) die(what, rc);
}

/// A bounded FIFO of longs that lives in shared memory.
struct BoundedQueue {
    pthread_mutex_t mutex;
    pthread_cond_t not_full;    // producers wait here when count == kCapacity
    pthread_cond_t not_empty;   // consumers wait here when count == 0
    int head = 0, tail = 0, count = 0;
    int max_count = 0;          // highest occupancy ever seen: proves the bound holds
    long full_waits = 0;        // how often a producer had to wait: back-pressure
    long slots[kCapacity] = {};

    BoundedQueue() {
        // PTHREAD_PROCESS_SHARED: the objects are used from several processes.
        pthread_mutexattr_t ma;
        check(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
        check(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), "setpshared");
        check(pthread_mutex_init(&mutex, &ma), "pthread_mutex_init");
        pthread_mutexattr_destroy(&ma);
        pthread_condattr_t ca;
        check(pthread_condattr_init(&ca), "pthread_condattr_init");
        check(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), "setpshared");
        check(pthread_cond_init(&not_full, &ca), "pthread_cond_init");
        check(pthread_cond_init(&not_empty, &ca), "pthread_cond_init");
        pthread_condattr_destroy(&ca);
    }
    ~BoundedQueue() {
        pthread_cond_destroy(&not_empty);
        pthread_cond_destroy(&not_full);
        pthread_mutex_destroy(&mutex);
    }

    void put(long item) {
        check(pthread_mutex_lock(&mutex), "lock");
        if (count == kCapacity) ++full_waits;
        // A while loop, not an if: wake-ups can be spurious, and another producer
        // may have taken the free slot before we got the mutex back.
        while (count == kCapacity) check(pthread_cond_wait(&not_full, &mutex), "wait");
        slots[tail] = item;
        tail = (tail + 1) % kCapacity;
        ++count;
        if (count > max_count) max_count = count;
        check(pthread_cond_signal(&not_empty), "signal");
        check(pthread_mutex_unlock(&mutex), "unlock");
    }

    long get() {
        check(pthread_mutex_lock(&mutex), "lock");
        while (count == 0) check(pthread_cond_wait(&not_empty, &mutex), "wait");
        long item = slots[head];
        head = (head + 1) % kCapacity;
        --count;
        check(pthread_cond_signal(&not_full), "signal");
        check(pthread_mutex_unlock(&mutex), "unlock");
        return item;
    }
};

/// Everything the processes share: the queue plus bookkeeping that proves the claim.
struct Shared {
    BoundedQueue queue;
    std::atomic<int> times_consumed[kTotalItems] = {};  // must end as exactly 1 each
    std::atomic<long> consumed_by[kConsumers] = {};
    std::atomic<long> checksum_consumed{0};
};
static_assert(std::atomic<int>::is_always_lock_free, "atomics must work across processes");

/// An anonymous shared mapping holding one T; children created by fork() share it.
template <class T>
class SharedObject {
public:
    SharedObject() {
        void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap", errno);
        obj_ = new (p) T();
    }
    ~SharedObject() { obj_->~T(); munmap(obj_, sizeof(T)); }
    SharedObject(const SharedObject&) = delete;
    SharedObject& operator=(const SharedObject&) = delete;
    T* operator->() const { return obj_; }
    T& operator*() const { return *obj_; }
private:
    T* obj_;
};

/// A child process running `body`; the destructor makes sure it is reaped.
class Child {
public:
    template <class F>
    explicit Child(F body) {
        std::cout.flush();   // or the child would print our buffered text again
        pid_ = fork();
        if (pid_ == -1) die("fork", errno);
        if (pid_ == 0) {
            body();
            std::cout.flush();
            _exit(0);        // skip the parent's destructors (they belong to the parent)
        }
    }
    Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
    Child(const Child&) = delete;
    ~Child() {
        if (pid_ > 0) { kill(pid_, SIGKILL); wait(); }
    }
    bool wait() {        // true if the child exited with status 0
        int status = 0;
        while (waitpid(pid_, &status, 0) == -1)
            if (errno != EINTR) die("waitpid", errno);
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
private:
    pid_t pid_ = -1;
};

void produce(Shared& s, int producer) {
    // Item numbers are unique across producers so each can be tracked.
    for (int i = 0; i < kItemsPerProducer; ++i)
        s.queue.put(static_cast<long>(producer) * kItemsPerProducer + i);
}

void consume(Shared& s, int consumer) {
    for (;;) {
        long item = s.queue.get();
        if (item == kPoisonPill) return;   // one pill stops exactly one consumer
        s.times_consumed[item].fetch_add(1);
        s.consumed_by[consumer].fetch_add(1);
        s.checksum_consumed.fetch_add(item);
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedObject<Shared> shared;
    std::cout << "bounded queue: " << kCapacity << " slots in shared memory, "
              << kProducers << " producers x " << kItemsPerProducer << " items, "
              << kConsumers << " consumers\n";

    Shared& s = *shared;
    std::vector<Child> consumers, producers;
    for (int c = 0; c < kConsumers; ++c) consumers.emplace_back([&s, c] { consume(s, c); });
    for (int p = 0; p < kProducers; ++p) producers.emplace_back([&s, p] { produce(s, p); });

    bool ok = true;
    for (auto& p : producers) ok = p.wait() && ok;
    // Only now is it safe to send the pills: every real item is already in the
    // queue, and FIFO order puts the pills behind them.
    std::cout << "producers finished; parent sends " << kConsumers << " poison pills\n";
    for (int c = 0; c < kConsumers; ++c) shared->queue.put(kPoisonPill);
    for (auto& c : consumers) ok = c.wait() && ok;

    long total = 0;
    for (int c = 0; c < kConsumers; ++c) {
        std::cout << "consumer " << c << " took " << shared->consumed_by[c] << " items\n";
        total += shared->consumed_by[c];
    }
    int exactly_once = 0;
    for (auto& n : shared->times_consumed) exactly_once += (n == 1);
    const long expected_sum = static_cast<long>(kTotalItems) * (kTotalItems - 1) / 2;

    std::cout << "items consumed: " << total << " (expected " << kTotalItems << ")\n"
              << "checksum: " << shared->checksum_consumed << " (expected "
              << expected_sum << ")\n"
              << "items consumed exactly once: " << exactly_once << " of " << kTotalItems
              << '\n'
              << "highest queue occupancy: " << shared->queue.max_count
              << " (capacity " << kCapacity << ")\n"
              << "producers found the queue full " << shared->queue.full_waits
              << " times and waited: back-pressure\n";

    ok = ok && total == kTotalItems && shared->checksum_consumed == expected_sum &&
         exactly_once == kTotalItems && shared->queue.max_count <= kCapacity;
    std::cout << (ok ? "OK: nothing lost, nothing duplicated, every consumer stopped\n"
                     : "FAILED\n");
    return ok ? 0 : 1;
}
