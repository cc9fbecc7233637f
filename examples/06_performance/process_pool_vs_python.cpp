// process_pool_vs_python.cpp — chapter 3's ProcessPool (one header) against Python's
// multiprocessing.Pool.map: the same trivial task, two workers, the same inputs, one run.
#include "process_pool.hpp"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "run_python.hpp"  // run_python(): Debian's python3, a fixed environment
#include "stats.hpp"       // Stats, summarise()

namespace {

// Trivial on purpose: what we time is the pool's cost of handing out a task.
std::int64_t task(std::int64_t x) { return x * x + 1; }

// Wall time / tasks of one map() with two workers: a throughput (tasks overlap), not
// the latency of one task. A warm pool; the results are checked after the clock stops.
Stats time_pool(std::size_t queued, std::size_t chunksize, const std::vector<std::int64_t>& xs,
                 int runs)
{
    PoolOptions options;                     // two workers
    options.max_queued_per_worker = queued;  // 1: a task goes to an idle worker only
    ProcessPool pool(options);
    auto task_fn = pool.def(task);
    pool.start();
    pool.map(task_fn, xs, chunksize);  // warm-up: first page faults and wake-ups
    std::vector<double> us;
    for (int r = 0; r < runs; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        auto results = pool.map(task_fn, xs, chunksize);
        auto t1 = std::chrono::steady_clock::now();
        us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / xs.size());
        for (std::size_t i = 0; i < xs.size(); ++i)
            if (results[i] != task(xs[i])) throw std::runtime_error("ProcessPool: wrong result");
    }
    pool.close();
    pool.join();
    return summarise(us);
}

// The same measurement in Python: a warm Pool(2) (fork), the same task and inputs, each
// map timed alone, its results checked after the clock stops.
constexpr const char* kScript = R"(
import multiprocessing, statistics, sys, time
def task(x):
    return x * x + 1
if __name__ == "__main__":
    n, runs = int(sys.argv[1]), int(sys.argv[2])
    xs = list(range(n))
    expected = [task(x) for x in xs]
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for chunksize in 1, 256:
            pool.map(task, xs, chunksize)
            us = []
            for run in range(runs):
                start = time.perf_counter()
                got = pool.map(task, xs, chunksize)
                us.append((time.perf_counter() - start) * 1e6 / n)
                if got != expected:
                    sys.exit("Pool.map: wrong result")
            print(chunksize, statistics.median(us), min(us), max(us))
)";

void row(const char* who, Stats s)
{
    std::printf("%-46s %7.3f  [%7.3f .. %7.3f]\n", who, s.median, s.min, s.max);
}

}  // namespace

int benchmark(bool full)
{
    const std::size_t n = full ? 50000 : 2000;
    const int runs = full ? 21 : 7, python_runs = full ? 7 : 3;
    std::printf("mode: %s (%zu tasks per map, 2 workers, median of %d C++ / %d Python maps%s)\n",
                full ? "full" : "quick", n, runs, python_runs, full ? "" : "; --full for more");
    std::vector<std::int64_t> xs(n);
    std::iota(xs.begin(), xs.end(), std::int64_t{0});

    Stats alone = time_pool(1, 1, xs, runs);
    Stats batched = time_pool(PoolOptions{}.max_queued_per_worker, 1, xs, runs);
    Stats chunked = time_pool(PoolOptions{}.max_queued_per_worker, 256, xs, runs);
    std::istringstream python(
        run_python(kScript, {std::to_string(n), std::to_string(python_runs)}));
    Stats py_one{}, py_chunked{};
    int chunksize = 0;
    for (Stats s{}; python >> chunksize >> s.median >> s.min >> s.max;)
        (chunksize == 1 ? py_one : py_chunked) = s;
    if (py_one.median <= 0 || py_chunked.median <= 0) throw std::runtime_error("python3: no figures");

    std::printf("%-46s %7s  %s\n", "map(x -> x*x + 1)", "us/task", "[min .. max]");
    row("ProcessPool, chunksize 1, one task at a time", alone);
    row("ProcessPool, chunksize 1, batched (default)", batched);
    row("ProcessPool, chunksize 256", chunked);
    row("Python Pool.map, chunksize=1", py_one);
    row("Python Pool.map, chunksize=256", py_chunked);
    std::printf("every map in both languages returned all %zu results, right and in order\n\n", n);

    // The batched figure is bought by queueing: up to 64 tasks wait in a worker's socket,
    // sent many to a send(), and results come back through shared memory. Without it
    // every task pays a full round trip: that row is printed beside it.
    double ratio = py_one.median / batched.median;
    std::printf("Python / ProcessPool, time per task (wall time / tasks, 2 workers), chunksize 1:\n");
    std::printf("  batched, up to 64 tasks queued per worker: %.0fx (target >= 20x): %s\n", ratio,
                ratio >= 20 ? "met" : "NOT met");
    std::printf("  one task at a time per worker, no batching: %.1fx\n", py_one.median / alone.median);
    std::printf("Python / ProcessPool at chunksize 256: %.1fx\n", py_chunked.median / chunked.median);
    std::printf("the target is reported, not enforced: the same figure varies 3x between machines\n");
    return 0;
}

int main(int argc, char** argv)
{
    bool full = argc == 2 && std::string_view(argv[1]) == "--full";
    if (argc > 1 && !full) {
        std::fprintf(stderr, "usage: process_pool_vs_python [--full]\n");
        return 2;
    }
    try {
        return benchmark(full);
    } catch (const std::exception& e) {  // the pools' destructors have ended their workers
        std::fflush(stdout);
        std::fprintf(stderr, "process_pool_vs_python: %s\n", e.what());
        return 1;
    }
}
