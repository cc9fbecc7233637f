// counting_semaphore.cpp — inside ONE process, C++20 has a semaphore in the
// standard library: std::counting_semaphore<N>. Eight threads share three
// "connections"; the peak number in use must never exceed three.
// (It is not process-shared: between processes use sem_t, see sem_unnamed.cpp.)
//
// Python: threading.Semaphore(3) — the thread version of multiprocessing.Semaphore.
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <latch>
#include <semaphore>
#include <thread>
#include <vector>

namespace {

constexpr int kSlots = 3;
constexpr int kThreads = 8;

struct Stats {
    std::atomic<int> in_use{0};
    std::atomic<int> peak{0};
    std::atomic<int> served{0};
};

void record_peak(Stats& stats, int now) {
    int seen = stats.peak.load();
    while (now > seen && !stats.peak.compare_exchange_weak(seen, now)) {
    }
}

/// acquire/release around the work; std::counting_semaphore has no RAII guard
/// of its own, so keep the critical part short and exception-free.
void client(std::counting_semaphore<kSlots>& slots, Stats& stats, std::latch& start) {
    start.wait();  // all threads ask at the same moment
    // A bounded wait: 60 ms jobs, 3 at a time, never make anyone wait 10 s.
    if (!slots.try_acquire_for(std::chrono::seconds(10))) return;
    record_peak(stats, stats.in_use.fetch_add(1) + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // "use the connection"
    stats.in_use.fetch_sub(1);
    slots.release();
    stats.served.fetch_add(1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        std::counting_semaphore<kSlots> slots(kSlots);  // template argument = maximum
        Stats stats;
        std::latch start(1);  // the starting gun
        {
            std::vector<std::jthread> threads;  // jthread joins in its destructor...
            // ...so the gun goes off first, even if starting a thread throws: a
            // thread left waiting for it would make that join wait for ever.
            struct Fire { std::latch& l; ~Fire() { l.count_down(); } } fire{start};
            for (int i = 0; i < kThreads; ++i)
                threads.emplace_back(client, std::ref(slots), std::ref(stats),
                                     std::ref(start));
        }  // fire, then join
        std::cout << kThreads << " threads, " << kSlots
                  << " slots; served: " << stats.served.load() << '\n';
        std::cout << "peak in use = " << stats.peak.load() << " (limit " << kSlots << ")"
                  << (stats.peak.load() <= kSlots ? ": the limit held\n"
                                                  : ": LIMIT EXCEEDED\n");
        return stats.served.load() == kThreads && stats.peak.load() <= kSlots ? 0 : 1;
    } catch (const std::exception& e) {  // std::thread throws if it cannot start one
        std::cerr << "counting_semaphore: " << e.what() << '\n';
        return 1;
    }
}
