// Synchronization between processes (chapter 1), checked on real processes:
// a process-shared mutex prevents lost updates, a semaphore never admits more than
// N, a barrier releases nobody until all have arrived, a robust mutex recovers
// when its owner dies.
#include "process_helpers.hpp"

#include <pthread.h>
#include <semaphore.h>

#include <atomic>
#include <cerrno>

namespace {

struct Counter {
    pthread_mutex_t lock;
    long value;
};

void init_shared_mutex(pthread_mutex_t* m, bool robust = false) {
    pthread_mutexattr_t attr;
    REQUIRE(pthread_mutexattr_init(&attr) == 0);
    REQUIRE(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0);
    if (robust) REQUIRE(pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0);
    REQUIRE(pthread_mutex_init(m, &attr) == 0);
    pthread_mutexattr_destroy(&attr);
}

}  // namespace

TEST_CASE("a process-shared mutex prevents lost updates") {
    constexpr int children = 4, increments = 20000;
    test::Shared<Counter> counter;
    init_shared_mutex(&counter->lock);
    auto codes = test::run_children(children, [&](int) {
        for (int i = 0; i < increments; ++i) {
            if (pthread_mutex_lock(&counter->lock) != 0) return 1;
            long v = counter->value;   // read-modify-write, protected
            counter->value = v + 1;
            pthread_mutex_unlock(&counter->lock);
        }
        return 0;
    });
    CHECK(codes == std::vector<int>(children, 0));
    CHECK(counter->value == long{children} * increments);
    pthread_mutex_destroy(&counter->lock);
}

TEST_CASE("std::atomic in shared memory is exact across processes") {
    static_assert(std::atomic<long>::is_always_lock_free, "address-free only if lock-free");
    test::Shared<std::atomic<long>> counter;
    auto codes = test::run_children(4, [&](int) {
        for (int i = 0; i < 20000; ++i) counter->fetch_add(1, std::memory_order_relaxed);
        return 0;
    });
    CHECK(codes == std::vector<int>(4, 0));
    CHECK(counter->load() == 80000);
}

TEST_CASE("a semaphore never admits more than N processes") {
    constexpr unsigned slots = 2;
    struct State {
        sem_t sem;
        std::atomic<int> inside, most;
    };
    test::Shared<State> s;
    REQUIRE(sem_init(&s->sem, /*pshared=*/1, slots) == 0);
    auto codes = test::run_children(6, [&](int) {
        for (int round = 0; round < 5; ++round) {
            while (sem_wait(&s->sem) != 0)
                if (errno != EINTR) return 1;
            int now = s->inside.fetch_add(1) + 1;
            int most = s->most.load();
            while (now > most && !s->most.compare_exchange_weak(most, now)) {}
            usleep(2000);               // hold the slot so others must wait
            s->inside.fetch_sub(1);
            sem_post(&s->sem);
        }
        return 0;
    });
    CHECK(codes == std::vector<int>(6, 0));
    CHECK(s->most.load() <= static_cast<int>(slots));
    CHECK(s->most.load() == static_cast<int>(slots));   // and the limit was reached
    sem_destroy(&s->sem);
}

TEST_CASE("a barrier releases nobody until every process has arrived") {
    constexpr int parties = 4;
    struct State {
        pthread_barrier_t barrier;
        std::atomic<int> arrived;
    };
    test::Shared<State> s;
    pthread_barrierattr_t attr;
    REQUIRE(pthread_barrierattr_init(&attr) == 0);
    REQUIRE(pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0);
    REQUIRE(pthread_barrier_init(&s->barrier, &attr, parties) == 0);
    pthread_barrierattr_destroy(&attr);
    auto codes = test::run_children(parties, [&](int i) {
        usleep(static_cast<useconds_t>(i) * 20000);   // arrive at different times
        s->arrived.fetch_add(1);
        int rc = pthread_barrier_wait(&s->barrier);
        if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) return 1;
        return s->arrived.load() == parties ? 0 : 2;   // 2: released too early
    });
    CHECK(codes == std::vector<int>(parties, 0));
    pthread_barrier_destroy(&s->barrier);
}

TEST_CASE("a robust mutex recovers when its owner dies holding it") {
    test::Shared<Counter> state;
    init_shared_mutex(&state->lock, /*robust=*/true);
    auto codes = test::run_children(1, [&](int) {
        pthread_mutex_lock(&state->lock);
        state->value = -1;                 // half-done update...
        _exit(0);                          // ...and the owner dies holding the lock
        return 0;
    });
    CHECK(codes == std::vector<int>{0});
    REQUIRE(pthread_mutex_lock(&state->lock) == EOWNERDEAD);
    state->value = 0;                      // repair the state
    REQUIRE(pthread_mutex_consistent(&state->lock) == 0);
    REQUIRE(pthread_mutex_unlock(&state->lock) == 0);
    CHECK(pthread_mutex_lock(&state->lock) == 0);   // usable again, no error
    pthread_mutex_unlock(&state->lock);
    pthread_mutex_destroy(&state->lock);
}
