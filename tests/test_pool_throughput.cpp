// Chapter 3's ProcessPool (examples/03_pools/process_pool.hpp), the real class, on
// real worker processes: map over thousands of tasks keeps input order, apply and
// apply_async work, a worker's exception reaches the caller, a crashed worker is
// reported and replaced, and no child process outlives the pool. The throughput for
// chunk sizes 1 and 256 is printed, never asserted: it depends on the machine.

// The pool is one header, included here as any program includes it.
#include "../examples/03_pools/process_pool.hpp"
#include "pool_results.hpp"  // the tasks: square, tag_of, fragile, sleepy

#include "process_helpers.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

namespace {

// Runs first in every worker. Catch2 catches SIGABRT, SIGSEGV, SIGTERM ... in the
// test process to report them; a forked worker inherits those handlers and would
// print a bogus test failure when it crashes on purpose. Workers die the plain way.
void worker_setup()
{
    for (int sig : {SIGINT, SIGILL, SIGFPE, SIGSEGV, SIGTERM, SIGABRT}) std::signal(sig, SIG_DFL);
    ::prctl(PR_SET_DUMPABLE, 0);  // deliberate crashes leave no core files
    g_worker_tag = 42;            // the example's tag: tag_of() reports it
}

// A task that crashes its worker with a segmentation fault.
std::int64_t segfault_on_11(std::int64_t x)
{
    if (x == 11) std::raise(SIGSEGV);
    return x;
}

// The reports of on_worker_lost (called on the pool's dispatcher thread).
struct LostLog {
    std::mutex mutex;
    std::vector<std::string> lines;
    std::vector<std::string> get()
    {
        std::lock_guard lock(mutex);
        return lines;
    }
};

PoolOptions options_for_tests(LostLog* log = nullptr, std::size_t workers = 2)
{
    PoolOptions options;
    options.workers = workers;
    options.initializer = worker_setup;
    if (log)
        options.on_worker_lost = [log](const std::string& why) {
            std::lock_guard lock(log->mutex);
            log->lines.push_back(why);
        };
    return options;
}

// True when this process has no child at all, zombie or alive. WNOWAIT: look, do not reap.
bool no_child_left()
{
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

bool contains(const std::string& text, const std::string& part)
{
    return text.find(part) != std::string::npos;
}

// results[i] == xs[i] * xs[i] for every i (one CHECK, not one per element).
bool are_squares_of(const std::vector<std::int64_t>& results, const std::vector<std::int64_t>& xs)
{
    bool right = results.size() == xs.size();
    for (std::size_t i = 0; right && i < xs.size(); ++i) right = results[i] == xs[i] * xs[i];
    return right;
}

std::vector<std::int64_t> iota_vector(std::int64_t n)
{
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), std::int64_t{0});
    return v;
}

}  // namespace

TEST_CASE("map over 5000 tasks returns every result, in input order")
{
    constexpr std::int64_t tasks = 5000;
    const auto xs = iota_vector(tasks);
    std::vector<std::int64_t> expected;
    for (auto x : xs) expected.push_back(x * x);

    ProcessPool pool(options_for_tests());
    auto square_fn = pool.def(square);
    pool.start();
    for (std::size_t chunksize : {std::size_t{1}, std::size_t{7}, std::size_t{256}}) {
        INFO("chunksize " << chunksize);
        auto t0 = std::chrono::steady_clock::now();
        auto results = pool.map(square_fn, xs, chunksize);
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
        REQUIRE(results.size() == expected.size());
        CHECK(results == expected);
        // Printed for the reader, never asserted: timings depend on the machine.
        std::cout << "process_pool throughput: " << tasks << " tasks, chunksize " << chunksize
                  << ", 2 workers: " << static_cast<long long>(tasks / took.count())
                  << " tasks/s\n";
    }
    // imap keeps the order too, and starmap unpacks argument tuples.
    std::vector<std::int64_t> streamed;
    auto stream = pool.imap(square_fn, iota_vector(200));
    while (auto v = stream.next()) streamed.push_back(*v);
    CHECK(streamed == std::vector<std::int64_t>(expected.begin(), expected.begin() + 200));
    CHECK(pool.workers_started() == 2);   // nothing crashed, nothing was replaced
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

TEST_CASE("apply and apply_async run the task in a worker process")
{
    ProcessPool pool(options_for_tests());
    auto square_fn = pool.def(square);
    auto tag_fn = pool.def(tag_of);
    std::int64_t offset = 1000;   // a capturing lambda: each worker holds a forked copy
    auto shifted_fn = pool.def<std::int64_t(std::int64_t, std::int64_t)>(
        [offset](std::int64_t a, std::int64_t b) { return offset + a * b; });
    pool.start();

    CHECK(pool.apply(square_fn, 12) == 144);
    CHECK(pool.apply(shifted_fn, 4, 5) == 1020);

    // Ran in another process, one of the pool's workers, after the initializer.
    const std::string tag = pool.apply(tag_fn, 0);
    INFO("tag_of() says: " << tag);
    CHECK(tag.ends_with("tag 42"));
    const pid_t worker = static_cast<pid_t>(std::stol(tag.substr(std::string("worker ").size())));
    CHECK(worker != ::getpid());
    const auto pids = pool.worker_pids();
    CHECK(std::find(pids.begin(), pids.end(), worker) != pids.end());

    std::atomic<int> callbacks{0};
    std::atomic<std::int64_t> seen{0};
    auto f = pool.apply_async(square_fn, {7}, [&](const std::int64_t& v) {
        seen = v;
        ++callbacks;
    });
    CHECK(f.get() == 49);
    CHECK(callbacks == 1);
    CHECK(seen == 49);

    std::vector<std::future<std::int64_t>> futures;
    for (std::int64_t i = 0; i < 300; ++i) futures.push_back(pool.apply_async(square_fn, {i}));
    bool all_right = true;
    for (std::int64_t i = 0; i < 300; ++i)
        all_right = all_right && futures[static_cast<std::size_t>(i)].get() == i * i;
    CHECK(all_right);

    pool.close();
    CHECK_THROWS_AS(pool.apply(square_fn, 2), PoolClosed);   // no new work after close()
    pool.join();
    CHECK(pool.worker_pids().empty());
    CHECK(no_child_left());
}

TEST_CASE("an exception thrown in a worker reaches the caller with its message")
{
    LostLog lost;
    ProcessPool pool(options_for_tests(&lost));
    auto fragile_fn = pool.def(fragile);
    auto square_fn = pool.def(square);
    pool.start();
    const std::string message = "fragile(3): three is not allowed";

    SECTION("apply rethrows it as the same type: std::domain_error") {
        CHECK_THROWS_MATCHES(pool.apply(fragile_fn, 3), std::domain_error, Catch::Message(message));
    }
    SECTION("apply_async: in the future and in the error callback") {
        std::atomic<int> errors{0};
        std::string from_callback;   // written on the dispatcher thread before the future is set
        auto f = pool.apply_async(fragile_fn, {3}, {}, [&](std::exception_ptr e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::domain_error& r) {
                from_callback = r.what();
            } catch (...) {
            }
            ++errors;
        });
        CHECK_THROWS_MATCHES(f.get(), std::domain_error, Catch::Message(message));
        CHECK(errors == 1);
        CHECK(from_callback == message);
    }
    SECTION("map fails with the first failure, whatever the chunk size") {
        const std::vector<std::int64_t> xs{0, 1, 2, 3, 4};
        CHECK_THROWS_MATCHES(pool.map(fragile_fn, xs, 1), std::domain_error, Catch::Message(message));
        CHECK_THROWS_MATCHES(pool.map(fragile_fn, xs, 2), std::domain_error, Catch::Message(message));
    }
    // An exception is not a crash: the worker survives and the pool goes on.
    CHECK(pool.apply(square_fn, 9) == 81);
    CHECK(pool.map(fragile_fn, std::vector<std::int64_t>{0, 1, 2, 4}) ==
          std::vector<std::int64_t>{0, 1, 2, 4});
    CHECK(lost.get().empty());
    CHECK(pool.workers_started() == 2);
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

TEST_CASE("a crashed worker is reported as WorkerLost, replaced, and the pool keeps working")
{
    LostLog lost;
    ProcessPool pool(options_for_tests(&lost));
    auto fragile_fn = pool.def(fragile);
    auto segv_fn = pool.def(segfault_on_11);
    auto square_fn = pool.def(square);
    pool.start();
    const auto before = pool.worker_pids();
    REQUIRE(before.size() == 2);

    std::string what;
    SECTION("abort() in the task: SIGABRT") {
        try {
            pool.apply(fragile_fn, 5);
            FAIL("apply(fragile, 5) returned although its worker aborted");
        } catch (const WorkerLost& e) {
            what = e.what();
        }
        INFO("WorkerLost: " << what);
        CHECK(contains(what, "killed by signal " + std::to_string(SIGABRT)));
    }
    SECTION("a segmentation fault in the task: SIGSEGV") {
        try {
            pool.apply(segv_fn, 11);
            FAIL("apply(segfault_on_11, 11) returned although its worker crashed");
        } catch (const WorkerLost& e) {
            what = e.what();
        }
        INFO("WorkerLost: " << what);
        CHECK(contains(what, "killed by signal " + std::to_string(SIGSEGV)));
    }
    SECTION("a crash inside a chunked map fails the map") {
        try {
            pool.map(fragile_fn, std::vector<std::int64_t>{0, 1, 2, 4, 5, 6, 7}, 2);
            FAIL("map returned although a worker aborted");
        } catch (const WorkerLost& e) {
            what = e.what();
        }
        INFO("WorkerLost: " << what);
        CHECK(contains(what, "killed by signal " + std::to_string(SIGABRT)));
    }
    CHECK(contains(what, "while running task"));

    // Reported once through on_worker_lost, with the same sentence.
    const auto reports = lost.get();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0] == what);

    // The pool still works...
    CHECK(pool.apply(square_fn, 9) == 81);
    // ...because the dead worker was replaced: still two workers, one of them new.
    // (The failed task is completed just before the replacement is forked, so this
    // is checked only after the dispatcher has handled another task.)
    const auto after = pool.worker_pids();
    CHECK(after.size() == 2);
    CHECK(pool.workers_started() == 3);
    int survivors = 0;
    for (pid_t p : after) survivors += std::count(before.begin(), before.end(), p) > 0;
    CHECK(survivors == 1);

    // And a large map still runs to completion on the new set of workers.
    const auto xs = iota_vector(1000);
    auto results = pool.map(square_fn, xs, 16);
    CHECK(are_squares_of(results, xs));
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

TEST_CASE("jobs queued behind a crashing task are neither lost nor run twice")
{
    // One worker, many quick tasks: the worker holds a queue of them (several sent with
    // one send()). Task 150 crashes it. The results it finished before are in its reply
    // log; the jobs queued behind task 150 never started and go to the replacement.
    constexpr std::size_t tasks = 300, crash_at = 150;
    LostLog lost;
    ProcessPool pool(options_for_tests(&lost, 1));
    test::Shared<std::array<std::atomic<int>, tasks>> runs;   // executions of each task
    auto* counts = &*runs;
    auto counted = pool.def<std::int64_t(std::int64_t)>([counts](std::int64_t x) {
        (*counts)[static_cast<std::size_t>(x)].fetch_add(1);
        if (x == static_cast<std::int64_t>(crash_at)) std::abort();
        return x * x;
    });
    pool.start();
    const auto before = pool.worker_pids();
    // Shared futures, kept to the end: the last reference to each result (and to its
    // exception) is then dropped on this thread (see ProcessPool::result_of).
    std::vector<std::shared_future<std::int64_t>> futures;
    for (std::int64_t x = 0; x < static_cast<std::int64_t>(tasks); ++x)
        futures.push_back(pool.apply_async(counted, {x}).share());

    std::size_t right = 0, lost_tasks = 0;
    for (std::size_t x = 0; x < tasks; ++x) {
        try {
            right += futures[x].get() == static_cast<std::int64_t>(x * x);
        } catch (const WorkerLost& e) {
            ++lost_tasks;
            CHECK(x == crash_at);   // the crash is blamed on the task that crashed
            CHECK(contains(e.what(), "killed by signal " + std::to_string(SIGABRT)));
        }
    }
    CHECK(lost_tasks == 1);
    CHECK(right == tasks - 1);
    int ran_twice = 0, never_ran = 0;
    for (auto& c : *runs) {
        ran_twice += c.load() > 1;
        never_ran += c.load() == 0;
    }
    CHECK(ran_twice == 0);
    CHECK(never_ran == 0);
    CHECK(lost.get().size() == 1);
    CHECK(pool.workers_started() == 2);
    CHECK(pool.worker_pids() != before);
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

TEST_CASE("a quick result is not held back by a long task queued behind it")
{
    // imap over [1 ms, 400 ms] on one worker: the first result must arrive after about
    // 1 ms, not after the 400 ms task that the worker may already hold in its queue.
    ProcessPool pool(options_for_tests(nullptr, 1));
    auto sleepy_fn = pool.def(sleepy);
    pool.start();
    for (int warm = 0; warm < 20; ++warm) pool.apply(sleepy_fn, 0);  // "its tasks are quick"
    auto t0 = std::chrono::steady_clock::now();
    auto stream = pool.imap(sleepy_fn, std::vector<std::int64_t>{1, 400});
    REQUIRE(stream.next() == std::optional<std::int64_t>{1});
    auto first = std::chrono::steady_clock::now() - t0;
    REQUIRE(stream.next() == std::optional<std::int64_t>{400});
    auto both = std::chrono::steady_clock::now() - t0;
    using ms = std::chrono::duration<double, std::milli>;
    INFO("first result after " << ms(first).count() << " ms, both after " << ms(both).count()
                               << " ms");
    CHECK(first < both / 2);   // a fact about ordering, not a speed target: 400 ms apart
    pool.close();
    pool.join();
}

TEST_CASE("max_queued_per_worker = 1 still runs every task, one at a time per worker")
{
    PoolOptions options = options_for_tests();
    options.max_queued_per_worker = 1;
    ProcessPool pool(options);
    auto square_fn = pool.def(square);
    pool.start();
    const auto xs = iota_vector(500);
    auto results = pool.map(square_fn, xs);
    CHECK(are_squares_of(results, xs));
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

TEST_CASE("max_retries runs a task again after its worker died")
{
    LostLog lost;
    PoolOptions options = options_for_tests(&lost);
    test::Shared<std::atomic<int>> attempts;   // shared memory: counts across workers
    std::atomic<int>* counter = &*attempts;

    SECTION("a task that crashes once succeeds on the retry") {
        options.max_retries = 1;
        ProcessPool pool(options);
        auto flaky = pool.def<std::int64_t(std::int64_t)>([counter](std::int64_t x) {
            if (counter->fetch_add(1) == 0) std::abort();   // only the first attempt crashes
            return x * 10;
        });
        pool.start();
        CHECK(pool.apply(flaky, 4) == 40);
        CHECK(counter->load() == 2);
        CHECK(lost.get().size() == 1);
        pool.close();
        pool.join();
    }
    SECTION("a task that always crashes fails after 1 + max_retries attempts") {
        options.max_retries = 2;
        ProcessPool pool(options);
        auto doomed = pool.def<std::int64_t(std::int64_t)>([counter](std::int64_t) -> std::int64_t {
            counter->fetch_add(1);
            std::abort();
        });
        auto square_fn = pool.def(square);
        pool.start();
        CHECK_THROWS_AS(pool.apply(doomed, 1), WorkerLost);
        CHECK(counter->load() == 3);
        CHECK(lost.get().size() == 3);
        CHECK(pool.apply(square_fn, 3) == 9);
        pool.close();
        pool.join();
    }
    CHECK(no_child_left());
}

TEST_CASE("a task that overruns task_timeout fails with TaskTimeout; its worker is replaced")
{
    LostLog lost;
    PoolOptions options = options_for_tests(&lost);
    options.task_timeout = std::chrono::milliseconds(500);
    ProcessPool pool(options);
    auto sleepy_fn = pool.def(sleepy);
    auto square_fn = pool.def(square);
    pool.start();
    CHECK(pool.apply(sleepy_fn, 1) == 1);
    CHECK_THROWS_AS(pool.apply(sleepy_fn, 5000), TaskTimeout);
    CHECK(lost.get().size() == 1);
    CHECK(pool.apply(square_fn, 5) == 25);
    CHECK(pool.workers_started() == 3);
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

TEST_CASE("no child process outlives the pool")
{
    SECTION("close + join after workers were recycled (max_tasks_per_child)") {
        PoolOptions options = options_for_tests();
        options.max_tasks_per_child = 3;
        ProcessPool pool(options);
        auto square_fn = pool.def(square);
        pool.start();
        CHECK(pool.map(square_fn, iota_vector(30)).size() == 30);
        CHECK(pool.workers_started() >= 10);   // 30 tasks, 3 per worker
        pool.close();
        pool.join();
        CHECK(pool.worker_pids().empty());
    }
    SECTION("close + join wait for the tasks already submitted") {
        ProcessPool pool(options_for_tests());
        auto sleepy_fn = pool.def(sleepy);
        pool.start();
        auto a = pool.apply_async(sleepy_fn, {50});
        auto b = pool.apply_async(sleepy_fn, {60});
        pool.close();
        pool.join();
        CHECK(a.get() == 50);
        CHECK(b.get() == 60);
    }
    SECTION("destroying a pool that was not joined terminates it; unfinished tasks fail") {
        std::future<std::int64_t> running, queued;
        std::vector<pid_t> pids;
        {
            ProcessPool pool(options_for_tests(nullptr, 1));
            auto sleepy_fn = pool.def(sleepy);
            pool.start();
            pids = pool.worker_pids();
            running = pool.apply_async(sleepy_fn, {3000});
            queued = pool.apply_async(sleepy_fn, {3000});
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }   // ~ProcessPool: terminate()
        CHECK_THROWS_AS(running.get(), PoolClosed);
        CHECK_THROWS_AS(queued.get(), PoolClosed);
        REQUIRE(pids.size() == 1);
        CHECK((::kill(pids[0], 0) == -1 && errno == ESRCH));   // reaped, not a zombie
    }
    SECTION("a pool that was never started has no process at all") {
        ProcessPool pool(options_for_tests());
        pool.def(square);
        CHECK(pool.workers_started() == 0);
    }
    CHECK(no_child_left());
}
