// bounded_queue.cpp - a bounded queue in shared memory: a ring of 8 slots, a
// process-shared mutex and two condition variables. A full queue stops the
// producers (back-pressure). Python: Queue(maxsize=8), put() and get().
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <deque>
#include <new>

#include "pattern.hpp"  // check, Child, run_main

constexpr int kCapacity = 8, kProducers = 3, kConsumers = 2, kItems = 3000;

// pthread_* return the error number instead of setting errno.
void check_pt(int err, const char* what) {
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

struct BoundedQueue {  // lives in a MAP_SHARED mapping, used by every process
    pthread_mutex_t mutex;
    pthread_cond_t not_full, not_empty;  // producers wait for room, consumers for items
    int head = 0, tail = 0, count = 0, max_count = 0, full_waits = 0;
    int slots[kCapacity] = {}, times_taken[kItems] = {};  // each must end at exactly 1

    BoundedQueue() {  // PTHREAD_PROCESS_SHARED: used by several processes
        pthread_mutexattr_t ma;
        pthread_condattr_t ca;
        pthread_mutexattr_init(&ma), pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_condattr_init(&ca), pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        check_pt(pthread_mutex_init(&mutex, &ma), "pthread_mutex_init");
        check_pt(pthread_cond_init(&not_full, &ca), "pthread_cond_init");
        check_pt(pthread_cond_init(&not_empty, &ca), "pthread_cond_init");
    }
    void put(int item) {
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        full_waits += count == kCapacity;
        // while, not if: another producer may take the slot before we wake up
        while (count == kCapacity) pthread_cond_wait(&not_full, &mutex);
        slots[tail] = item, tail = (tail + 1) % kCapacity;
        max_count = std::max(max_count, ++count);
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&mutex);
    }
    void get() {  // takes one item and counts it, under the mutex
        check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock");
        while (count == 0) pthread_cond_wait(&not_empty, &mutex);
        ++times_taken[slots[head]], head = (head + 1) % kCapacity, --count;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&mutex);
    }
};

int main(int argc, char* argv[]) {
    return run_main("bounded_queue", argc, argv, [] {
        void* m = ::mmap(nullptr, sizeof(BoundedQueue), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);  // the children share it
        if (m == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* m; ~Unmap() { ::munmap(m, sizeof(BoundedQueue)); } } unmap{m};
        auto& q = *new (m) BoundedQueue;
        std::cout << "bounded queue: " << kCapacity << " slots, " << kProducers
                  << " producers, " << kConsumers << " consumers, " << kItems << " items\n";
        std::deque<Child> children;  // destroyed before the mapping; never moved
        // If a consumer died, producers would wait for room for ever: SIGALRM ends
        // every child within 20 s, so the parent's waitpid() has a bound.
        for (int c = 0; c < kConsumers; ++c)  // each takes its share: the count is known
            children.emplace_back([&q] {
                ::alarm(20);
                for (int i = 0; i < kItems / kConsumers; ++i) q.get();
            });
        for (int p = 0; p < kProducers; ++p)  // item numbers are unique across producers
            children.emplace_back([&q, p] {
                ::alarm(20);
                for (int i = p; i < kItems; i += kProducers) q.put(i);
            });
        bool ok = true;
        for (auto& c : children) ok = c.wait() && ok;
        const auto once = std::count(std::begin(q.times_taken), std::end(q.times_taken), 1);
        std::cout << "items consumed exactly once: " << once << " of " << kItems << '\n'
                  << "highest occupancy: " << q.max_count << " (capacity " << kCapacity << ")\n"
                  << "a producer found the queue full " << q.full_waits << " times and waited\n";
        ok = ok && once == kItems && q.max_count <= kCapacity;
        std::cout << (ok ? "OK: nothing lost, nothing duplicated, never over capacity\n" : "FAILED\n");
        return ok ? 0 : 1;
    });
}
