// task_framework.cpp - exercise solution: a small task framework.
//
// Twenty tasks run on the fault-tolerant pool of worker_pool.hpp: one throws, one
// crashes its worker once, one crashes it every time. A task that throws is reported
// by its worker; one that kills its worker is noticed by the pool (end-of-file, then
// waitpid), retried once on a fresh worker, then recorded as failed.
#include "worker_pool.hpp"  // Task, Result, Distributor, WorkerPool, ResultCollector

#include <sys/resource.h>

namespace {

constexpr int kWorkers = 3, kTasks = 20;

long count_primes_below(int n) {
    if (n < 0) throw std::invalid_argument("n must not be negative, got " + std::to_string(n));
    long count = 0;
    for (int i = 2; i < n; ++i) {
        bool prime = true;
        for (int d = 2; d * d <= i && prime; ++d) prime = i % d != 0;
        count += prime;
    }
    return count;
}

[[noreturn]] void crash() {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);   // a demonstration crash need not leave a core file
    std::abort();                    // stands for a bug: a segfault would look the same
}

int task_argument(int id) { return id == 7 ? -5 : 20'000 + 1'000 * id; }
Kind task_kind(int id) { return id == 11 ? Kind::kFlaky : id == 17 ? Kind::kCrash : Kind::kCountPrimes; }

}  // namespace

/// Runs in the worker. Exceptions become error results; crashes cannot be caught.
Result execute(const Task& t) {
    Result r{t.id, false, 0, {}};
    try {
        if (t.kind == Kind::kCrash || (t.kind == Kind::kFlaky && t.attempt == 1)) crash();
        r.value = count_primes_below(t.arg);
        r.ok = true;
    } catch (const std::exception& e) {
        std::snprintf(r.error, sizeof r.error, "exception: %s", e.what());
    }
    return r;
}

int run() {
    std::cout << kTasks << " tasks (count primes below n) on " << kWorkers << " workers; "
              << "task 7 has a bad argument, task 11 crashes on its first attempt, "
              << "task 17 always crashes\n";
    Distributor distributor;
    for (int id = 0; id < kTasks; ++id)
        distributor.submit(Task{id, task_kind(id), task_argument(id), 1});
    ResultCollector collector;
    int replaced = 0;
    {
        WorkerPool pool(kWorkers);
        pool.run(distributor, collector, kTasks);
        replaced = pool.replaced();
        pool.shutdown();   // every task has an outcome: the workers are idle
    }

    int ok = 0, verified = 0, failed = 0;
    for (auto& [id, r] : collector.results()) {
        if (r.ok) {
            ++ok;
            verified += (r.value == count_primes_below(task_argument(id)));
        } else {
            ++failed;
            std::cout << "task " << id << " failed: " << r.error << '\n';
        }
    }
    std::cout << "results: " << collector.size() << " of " << kTasks << " tasks accounted for; "
              << ok << " ok (" << verified << " verified), " << failed << " failed; "
              << replaced << " workers replaced\n";
    const bool as_expected = collector.size() == kTasks && ok == kTasks - 2 && verified == ok &&
                             failed == 2 && replaced == 3;
    std::cout << "every task has an outcome and the pool survived: "
              << (as_expected ? "yes" : "no") << '\n';
    return as_expected ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "task_framework: " << e.what() << '\n';
        return 1;
    }
}