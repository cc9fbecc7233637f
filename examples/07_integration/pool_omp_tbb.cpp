// pool_omp_tbb.cpp — one job, three parallel runtimes, the same answer.
//
// The job: count the primes below N by trial division, split into chunks.
// Later chunks cost more (bigger numbers), so the chunks are handed out
// dynamically. We run it serially, with a hand-made fork() process pool,
// with OpenMP and with oneTBB, check that all four counts agree, and time them
// (Py: the same job in multiprocessing.Pool and in Dask).
#include <fcntl.h>
#include <omp.h>
#include <sys/wait.h>
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_reduce.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iostream>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr long kLimit = 1'000'000;      // count primes in [0, kLimit)
constexpr long kPrimesBelowLimit = 78'498;
constexpr int kChunks = 64;
constexpr int kWorkers = 2;             // this site is built on 2 cores

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

bool is_prime(long n) {
    if (n < 2) return false;
    for (long d = 2; d * d <= n; ++d)
        if (n % d == 0) return false;
    return true;
}

// The unit of work every runtime hands out: one chunk of the range.
long count_chunk(int chunk) {
    long lo = kLimit * chunk / kChunks, hi = kLimit * (chunk + 1) / kChunks, count = 0;
    for (long n = lo; n < hi; ++n) count += is_prime(n);
    return count;
}

long serial() {
    long total = 0;
    for (int c = 0; c < kChunks; ++c) total += count_chunk(c);
    return total;
}

// ANCHOR: owners
// 1. The hand-made process pool.
// Tasks: chunk numbers in one pipe shared by all workers (each 4-byte read
// takes exactly one task, so idle workers pull the next one: dynamic
// scheduling). Results: one 16-byte record per chunk in a second pipe.

struct Record { std::int64_t chunk, count; };

class Pipe {
public:
    Pipe() { check(::pipe2(fd_, O_CLOEXEC), "pipe2"); }
    ~Pipe() { close_read(); close_write(); }
    int read_end() const { return fd_[0]; }
    int write_end() const { return fd_[1]; }
    void close_read() { if (fd_[0] >= 0) ::close(std::exchange(fd_[0], -1)); }
    void close_write() { if (fd_[1] >= 0) ::close(std::exchange(fd_[1], -1)); }
private:
    int fd_[2];
};

/// The pool's children; any not yet waited for are killed and reaped.
class Workers {
public:
    ~Workers() {  // SIGKILL cannot be caught: these waits are bounded
        for (pid_t p : pids_) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
    }
    void add(pid_t p) { pids_.push_back(p); }
    bool join_all() {                        // true if every worker exited with 0
        bool ok = true;
        for (pid_t p : pids_) {
            int status;
            check(::waitpid(p, &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return ok;
    }
private:
    std::vector<pid_t> pids_;
};
// ANCHOR_END: owners

// ANCHOR: pool

[[noreturn]] void worker(Pipe& tasks, Pipe& results) {
    // A worker must not hold write ends it does not need, or the reader never
    // sees EOF. (Both pipes are O_CLOEXEC, but we never exec: close by hand.)
    tasks.close_write();
    results.close_read();
    std::int32_t chunk;
    while (::read(tasks.read_end(), &chunk, sizeof chunk) == sizeof chunk) {
        Record r{chunk, count_chunk(chunk)};
        if (::write(results.write_end(), &r, sizeof r) != sizeof r) ::_exit(1);
    }
    ::_exit(0);                              // EOF on the task pipe: no more work
}

long process_pool() {
    Pipe tasks, results;
    Workers workers;
    for (int w = 0; w < kWorkers; ++w) {
        std::cout.flush();
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) worker(tasks, results);
        workers.add(pid);
    }
    tasks.close_read();
    results.close_write();

    // 64 tasks are 256 bytes and 64 results 1 KiB: far below the 64 KiB a pipe
    // holds, so writing every task before reading any result cannot deadlock.
    for (std::int32_t c = 0; c < kChunks; ++c)
        if (::write(tasks.write_end(), &c, sizeof c) != sizeof c) check(-1, "write task");
    tasks.close_write();                     // workers stop at EOF

    long total = 0;
    std::vector<bool> seen(kChunks, false);
    Record r;
    while (::read(results.read_end(), &r, sizeof r) == sizeof r) {
        total += r.count;
        seen[static_cast<std::size_t>(r.chunk)] = true;
    }
    bool all_seen = true;
    for (bool s : seen) all_seen = all_seen && s;
    if (!workers.join_all() || !all_seen) return -1;
    return total;
}
// ANCHOR_END: pool

// ANCHOR: runtimes
// 2. OpenMP: a pragma on the serial loop.

long openmp() {
    long total = 0;
    #pragma omp parallel for num_threads(kWorkers) schedule(dynamic, 1) reduction(+ : total)
    for (int c = 0; c < kChunks; ++c) total += count_chunk(c);
    return total;
}

// 3. oneTBB: a reduction over a range, work-stealing scheduler.

long tbb_reduce() {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, kWorkers);
    return tbb::parallel_reduce(
        tbb::blocked_range<int>(0, kChunks, 1), 0L,
        [](const tbb::blocked_range<int>& r, long partial) {
            for (int c = r.begin(); c != r.end(); ++c) partial += count_chunk(c);
            return partial;
        },
        std::plus<long>());
}
// ANCHOR_END: runtimes

struct Timed { long result; double ms; };

Timed timed(long (*job)()) {
    auto t0 = std::chrono::steady_clock::now();
    long result = job();
    std::chrono::duration<double, std::milli> dt = std::chrono::steady_clock::now() - t0;
    return {result, dt.count()};
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: pool_omp_tbb\n"; return 2; }
    try {
        std::cout << "job: count primes below " << kLimit << " in " << kChunks
                  << " chunks, " << kWorkers << " workers each\n";

        // Order matters: fork() the process pool BEFORE OpenMP and TBB start their
        // thread pools. A child forked from a multithreaded process gets only the
        // forking thread, and any lock another thread held stays locked forever.
        Timed base = timed(serial);
        Timed results[] = {timed(process_pool), timed(openmp), timed(tbb_reduce)};
        const char* names[] = {"process pool (fork)", "OpenMP", "oneTBB"};

        bool ok = base.result == kPrimesBelowLimit;
        std::printf("%-20s %7ld primes %8.1f ms\n", "serial", base.result, base.ms);
        for (int i = 0; i < 3; ++i) {
            std::printf("%-20s %7ld primes %8.1f ms   speedup %.2fx\n", names[i], results[i].result,
                        results[i].ms, base.ms / results[i].ms);
            ok = ok && results[i].result == base.result;
        }
        std::printf("%s: all four counts equal %ld, the known number of primes below %ld\n",
                    ok ? "correct" : "WRONG", kPrimesBelowLimit, kLimit);
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "pool_omp_tbb: " << e.what() << '\n';
        return 1;
    }
}
