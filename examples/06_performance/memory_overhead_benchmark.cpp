// memory_overhead_benchmark.cpp — what does a worker really cost in memory?
// The footprint of an idle thread next to that of an idle process, from
// /proc/<pid>/smaps_rollup and VmPTE. (copy_on_write.cpp: pages shared after fork.)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <latch>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

// In a sanitizer build (the project's ASan and TSan test runs) the process
// carries the sanitizer's own shadow memory and allocator, which would swamp
// the few KiB a thread or a process costs: that comparison is then skipped.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

#include "memory_probe.hpp"  // check, Memory, memory_of, page_tables_kib, Child

namespace {

/// N idle threads vs N idle processes.
bool compare_footprints(int n) {
    std::printf("footprint of %d idle workers (their stacks touched a little, as real work would)\n", n);
    if (kSanitized) {
        std::printf("  per thread : not measured in a sanitizer build\n");
        std::printf("  per process: not measured in a sanitizer build\n");
        std::printf("  thread vs process: not judged (the sanitizer's own memory would dominate)\n");
        return true;
    }

    Memory base = memory_of("self");
    std::latch started(n), stop(1);
    std::vector<std::jthread> threads;
    for (int i = 0; i < n; ++i)
        threads.emplace_back([&] {
            volatile char scratch[16 * 1024];  // use 16 KiB of stack
            for (std::size_t k = 0; k < sizeof scratch; k += 4096) scratch[k] = 1;
            started.count_down();
            stop.wait();
        });
    started.wait();
    Memory with_threads = memory_of("self");
    stop.count_down();
    threads.clear();  // joins
    double per_thread = static_cast<double>(with_threads.rss - base.rss) / n;
    std::printf("  per thread : +%.0f KiB RSS of the one process\n", per_thread);

    int hold[2];  // children wait for EOF on this pipe
    check(::pipe(hold), "pipe");
    std::vector<Child> kids;  // on an error, each is killed and reaped by its owner
    for (int i = 0; i < n; ++i)
        kids.emplace_back([&] {
            ::close(hold[1]);
            volatile char scratch[16 * 1024];
            for (std::size_t k = 0; k < sizeof scratch; k += 4096) scratch[k] = 1;
            char c;
            check(::read(hold[0], &c, 1), "read");
            return 0;
        });
    ::close(hold[0]);
    ::usleep(50'000);  // let every child reach its read()
    Memory sum;
    long pte = 0;
    for (Child& k : kids) {
        Memory m = memory_of(std::to_string(k.pid()));
        sum.rss += m.rss, sum.pss += m.pss, sum.priv += m.priv;
        pte += page_tables_kib(std::to_string(k.pid()));
    }
    ::close(hold[1]);  // end of file: every child ends by itself now
    bool ok = true;
    for (Child& k : kids) ok &= k.exited_ok();
    double per_proc = static_cast<double>(sum.priv + pte) / n;
    std::printf("  per process: %.0f KiB private + %.0f KiB page tables; PSS %.0f KiB, RSS %.0f KiB "
                "(most of RSS is shared)\n",
                static_cast<double>(sum.priv) / n, static_cast<double>(pte) / n, static_cast<double>(sum.pss) / n,
                static_cast<double>(sum.rss) / n);
    bool heavier = per_thread > 0 && per_proc > 2 * per_thread;
    std::printf("  a process costs %.1fx the memory of a thread (need > 2x): %s\n", per_proc / per_thread,
                heavier ? "processes are heavier, threads share everything" : "NOT SHOWN");
    return ok && heavier;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        return compare_footprints(8) ? 0 : 1;
    } catch (const std::exception& e) {  // the Child owners have killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "memory_overhead_benchmark: %s\n", e.what());
        return 1;
    }
}
