// cpu_bound.cpp — the same 8 CPU-bound tasks (pure arithmetic) run by 1, 2 and 4
// workers, as threads and as processes. Wall time: median and [min..max] over several
// runs. (io_bound.cpp: the same workers on tasks that wait.)
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include "workers.hpp"  // run_table(), report_speedup(), workers_main()

namespace {

/// A chain of multiply-xorshift steps. Each step needs the previous result, so the
/// compiler cannot skip or vectorise the work.
std::uint64_t cpu_task(int task, std::uint64_t steps) {
    std::uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(task + 1);
    for (std::uint64_t i = 0; i < steps; ++i) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
    }
    return x;
}

int usable_cpus() {
    cpu_set_t set;
    check(::sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
    return CPU_COUNT(&set);
}

/// How many CPUs' worth of time we actually get right now: spin one thread per
/// usable CPU for a while and divide the CPU time we received by the wall time.
/// On a machine busy with other work this is well below the CPU count, and no
/// program can then show its full parallel speed-up.
double available_parallelism(int cpus) {
    auto cpu_now = [] {
        timespec ts{};
        check(::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), "clock_gettime");
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    };
    double cpu0 = cpu_now();
    auto t0 = std::chrono::steady_clock::now();
    {
        std::vector<std::jthread> spinners;
        for (int i = 0; i < cpus; ++i)
            spinners.emplace_back([t0] {
                while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {
                }
            });
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return (cpu_now() - cpu0) / wall;
}

}  // namespace

int run(bool full) {
    const int runs = full ? 9 : 3;
    const std::uint64_t steps = full ? 20'000'000 : 6'000'000;
    int cpus = usable_cpus();
    std::printf("mode: %s (%d runs per cell; --full for more and longer runs)\n", full ? "full" : "quick", runs);
    double avail = available_parallelism(cpus);
    std::printf("usable CPUs (sched_getaffinity): %d; CPU time we could get: %.2f CPUs\n\n", cpus, avail);

    Table cpu = run_table("CPU-bound: 8 tasks of pure arithmetic", runs,
                          [&](int t) { return cpu_task(t, steps); });
    // Probe again: the CPUs must have stayed free for the whole table.
    avail = std::min(avail, available_parallelism(cpus));
    std::printf("\nevery run of every cell returned the serial result\n");
    if (cpus >= 2 && avail >= 0.85 * cpus) {  // parallel speed-up needs a second free CPU
        report_speedup("CPU-bound, threads  ", cpu.threads, 1, 1.3, "threads compute in parallel");
        report_speedup("CPU-bound, processes", cpu.processes, 1, 1.3, "processes compute in parallel");
    } else {
        std::printf("CPU-bound speed-up not judged: only %.2f CPUs were free for this run\n", avail);
    }
    // Beyond the CPU count, extra CPU-bound workers only take turns.
    std::printf("CPU-bound, threads: 4 workers vs 2: %.2fx (no gain expected past %d CPUs)\n",
                cpu.threads[1].median / cpu.threads[2].median, cpus);
    return 0;  // every cell was checked against the serial result above
}

int main(int argc, char** argv) { return workers_main(argc, argv, run); }
