// producer_consumer.cpp - a bounded queue in shared memory, shared by producer
// and consumer processes, shut down with one poison pill per consumer.
// Python: Queue(maxsize=8), put()/get(), and a None "pill" per consumer.
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <iostream>
#include <new>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr int kCapacity = 8, kProducers = 3, kConsumers = 2, kPerProducer = 1000;
constexpr int kItems = kProducers * kPerProducer;
constexpr long kPill = -1;  // never a real item: items are 0..kItems-1

// A failed call throws, naming the call; main prints it. pthread_* return the error.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// ANCHOR: queue
// A ring buffer guarded by a process-shared mutex. Two condition variables:
// producers wait for room, consumers wait for items.
struct BoundedQueue {
    pthread_mutex_t mutex;
    pthread_cond_t not_full, not_empty;
    int head = 0, tail = 0, count = 0, max_count = 0;
    long full_waits = 0;  // how often a producer found it full: back-pressure
    long slots[kCapacity] = {};

    BoundedQueue() {  // PTHREAD_PROCESS_SHARED: used from several processes
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        check_pt(pthread_mutex_init(&mutex, &ma), "pthread_mutex_init");
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        check_pt(pthread_cond_init(&not_full, &ca), "pthread_cond_init");
        check_pt(pthread_cond_init(&not_empty, &ca), "pthread_cond_init");
    }
    void put(long item) {
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        full_waits += (count == kCapacity);
        // while, not if: another producer may take the slot before we wake up
        while (count == kCapacity) pthread_cond_wait(&not_full, &mutex);
        slots[tail] = item;
        tail = (tail + 1) % kCapacity;
        max_count = std::max(max_count, ++count);
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mutex);
    }
    long get() {
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        while (count == 0) pthread_cond_wait(&not_empty, &mutex);
        const long item = slots[head];
        head = (head + 1) % kCapacity;
        --count;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mutex);
        return item;
    }
};
// ANCHOR_END: queue

// What every process sees: the queue, and counters that prove the claim.
struct Shared {
    BoundedQueue queue;
    std::atomic<int> times_consumed[kItems] = {};  // each must end at exactly 1
    std::atomic<long> consumed_by[kConsumers] = {};
};

// ANCHOR: owners
// An anonymous MAP_SHARED mapping: the children forked later share it.
class Mapping {
public:
    explicit Mapping(size_t size) : size_(size) {
        p_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p_ == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    }
    Mapping(const Mapping&) = delete;
    ~Mapping() { ::munmap(p_, size_); }
    void* get() const { return p_; }

private:
    size_t size_;
    void* p_;
};

// Owns a forked child: if we leave early, it is killed and reaped.
struct Child {
    pid_t pid = -1;
    Child() = default;
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    // Waits at most timeout_ms (a pidfd is readable once the child has ended);
    // true if it exited with 0. Too late: throws, and the destructor kills it.
    bool wait(int timeout_ms) {
        struct Fd { int fd; ~Fd() { ::close(fd); } };
        Fd pidfd{check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), "pidfd_open")};
        pollfd p{pidfd.fd, POLLIN, 0};
        if (check(::poll(&p, 1, timeout_ms), "poll") == 0)
            throw std::runtime_error("a child did not finish in time");
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

// Forks a child that runs body(); the child ends in _exit, whatever happens.
template <class Body>
Child spawn(Body body) {
    std::cout.flush();  // else the child prints our buffered text again
    Child child;
    child.pid = check(::fork(), "fork");
    if (child.pid == 0) {
        int code = 1;
        try { body(); code = 0; } catch (const std::exception& e) {
            std::cerr << "child: " << e.what() << '\n';
        } catch (...) {}
        std::cout.flush();
        _exit(code);
    }
    return child;
}
// ANCHOR_END: owners

// ANCHOR: bodies
void produce(Shared& s, int producer) {  // item numbers are unique across producers
    for (int i = 0; i < kPerProducer; ++i) s.queue.put(long{producer} * kPerProducer + i);
}

void consume(Shared& s, int consumer) {
    for (long item; (item = s.queue.get()) != kPill;) {  // one pill stops one consumer
        s.times_consumed[item].fetch_add(1);
        s.consumed_by[consumer].fetch_add(1);
    }
}
// ANCHOR_END: bodies

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // ANCHOR: main
        Mapping mapping(sizeof(Shared));
        Shared& s = *new (mapping.get()) Shared;
        std::cout << "bounded queue: " << kCapacity << " slots in shared memory, " << kProducers
                  << " producers x " << kPerProducer << " items, " << kConsumers << " consumers\n";
        std::vector<Child> consumers, producers;  // destroyed before the mapping
        for (int c = 0; c < kConsumers; ++c) consumers.push_back(spawn([&s, c] { consume(s, c); }));
        for (int p = 0; p < kProducers; ++p) producers.push_back(spawn([&s, p] { produce(s, p); }));

        bool ok = true;  // 20 s is only a bound: the work takes milliseconds
        for (auto& p : producers) ok = p.wait(20'000) && ok;
        // Only now: every real item is in the queue, and FIFO puts the pills last.
        std::cout << "producers finished; parent sends " << kConsumers << " poison pills\n";
        for (int c = 0; c < kConsumers; ++c) s.queue.put(kPill);
        for (auto& c : consumers) ok = c.wait(20'000) && ok;

        long total = 0;
        for (int c = 0; c < kConsumers; ++c) {
            std::cout << "consumer " << c << " took " << s.consumed_by[c] << " items\n";
            total += s.consumed_by[c];
        }
        const auto once = std::count(std::begin(s.times_consumed), std::end(s.times_consumed), 1);
        std::cout << "items consumed: " << total << " (expected " << kItems << ")\n"
                  << "items consumed exactly once: " << once << " of " << kItems << '\n'
                  << "highest queue occupancy: " << s.queue.max_count << " (capacity "
                  << kCapacity << ")\n"
                  << "producers found the queue full " << s.queue.full_waits
                  << " times and waited: back-pressure\n";
        ok = ok && total == kItems && once == kItems && s.queue.max_count <= kCapacity;
        std::cout << (ok ? "OK: nothing lost, nothing duplicated, every consumer stopped\n"
                         : "FAILED\n");
        return ok ? 0 : 1;
        // ANCHOR_END: main
    } catch (const std::exception& e) {
        std::cerr << "producer_consumer: " << e.what() << '\n';
        return 1;
    }
}
