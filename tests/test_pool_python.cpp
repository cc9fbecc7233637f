// Chapter 3's ProcessPool against what CPython's own pool tests check (_TestPool,
// _TestPoolWorkerErrors, _TestPoolWorkerLifetime in Lib/test/_test_multiprocessing.py),
// written again for the C++ pool, never copied: map_async with its callbacks, imap and
// imap_unordered with a chunk size, a time-out on a map and on the next result of a
// stream, the worker's exception type kept across the process boundary, empty inputs,
// workers replaced after max_tasks_per_child, the broken pool.
//
// Every call that could hang runs through within(): a hang fails in seconds. No test
// asserts how fast anything is; the time-outs are checked only for "not yet" against
// tasks that sleep far longer than the time-out.
#include "../examples/03_pools/process_pool.hpp"

#include <catch2/catch.hpp>

#include "pool_results.hpp"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <future>
#include <iostream>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Runs fn on a thread of its own and waits at most `limit`; a hang ends the program.
template <class F>
auto within(std::chrono::seconds limit, const char* what, F fn)
{
    auto done = std::async(std::launch::async, std::move(fn));
    if (done.wait_for(limit) == std::future_status::timeout) {
        std::cerr << "FAILED (hang): " << what << " did not return within " << limit.count() << " s\n";
        std::_Exit(1);
    }
    return done.get();
}

constexpr auto kHang = 60s;

// Runs first in every worker: Catch2's signal handlers are not inherited by workers.
void worker_setup()
{
    for (int sig : {SIGINT, SIGILL, SIGFPE, SIGSEGV, SIGTERM, SIGABRT}) std::signal(sig, SIG_DFL);
    ::prctl(PR_SET_DUMPABLE, 0);
}

PoolOptions options_for_tests(std::size_t workers = 2)
{
    PoolOptions options;
    options.workers = workers;
    options.initializer = worker_setup;
    return options;
}

bool no_child_left()
{
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

std::vector<std::int64_t> iota_vector(std::int64_t n)
{
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    std::iota(v.begin(), v.end(), std::int64_t{0});
    return v;
}

std::vector<std::int64_t> squares_of(const std::vector<std::int64_t>& xs)
{
    std::vector<std::int64_t> out;
    for (auto x : xs) out.push_back(x * x);
    return out;
}

// ---- tasks -----------------------------------------------------------------------------
std::int64_t square_unless_7(std::int64_t x)
{
    if (x == 7) throw std::invalid_argument("seven is not allowed");
    return x * x;
}

std::int64_t sleep_ms(std::int64_t ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}

std::int64_t pid_of(std::int64_t) { return ::getpid(); }

struct ParseError : std::runtime_error {  // a type of the reader's own
    using std::runtime_error::runtime_error;
};

// Throws the exception numbered k (see the table in the test).
std::int64_t throw_kind(std::int64_t k)
{
    switch (k) {
    case 0: throw std::invalid_argument("invalid_argument");
    case 1: throw std::domain_error("domain_error");
    case 2: throw std::length_error("length_error");
    case 3: throw std::out_of_range("out_of_range");
    case 4: throw std::logic_error("logic_error");
    case 5: throw std::range_error("range_error");
    case 6: throw std::overflow_error("overflow_error");
    case 7: throw std::underflow_error("underflow_error");
    case 8: throw std::runtime_error("runtime_error");
    case 9: throw std::system_error(ENOENT, std::generic_category(), "open /no/such/file");
    case 10: throw std::bad_alloc();
    case 11: throw ParseError("parse error at line 3");
    case 12: throw std::bad_cast();
    default: return k;
    }
}

// The exception a call throws, as an exception_ptr (nullptr if none).
template <class F>
std::exception_ptr thrown_by(F fn)
{
    try {
        fn();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}

}  // namespace

// CPython: test_map_async, test_map_async_callbacks, test_starmap_async, test_empty_iterable.
TEST_CASE("map_async and starmap_async: a future, a callback with every result, an error callback")
{
    ProcessPool pool(options_for_tests());
    auto square_fn = pool.def(square);
    auto checked_fn = pool.def(square_unless_7);
    auto shifted_fn = pool.def<std::int64_t(std::int64_t, std::int64_t)>(
        [](std::int64_t a, std::int64_t b) { return a * 10 + b; });
    pool.start();
    const auto xs = iota_vector(100);

    std::mutex mutex;  // the callbacks run on the dispatcher thread
    std::vector<std::int64_t> from_callback;
    int results_calls = 0, error_calls = 0;
    std::string error_text;
    auto on_result = [&](const std::vector<std::int64_t>& r) {
        std::lock_guard lock(mutex);
        from_callback = r;
        ++results_calls;
    };
    auto on_error = [&](std::exception_ptr e) {
        std::lock_guard lock(mutex);
        ++error_calls;
        try {
            std::rethrow_exception(e);
        } catch (const std::invalid_argument& x) {
            error_text = x.what();
        } catch (...) {
            error_text = "another type";
        }
    };

    auto f = pool.map_async(square_fn, xs, 7, on_result, on_error);
    CHECK(within(kHang, "map_async(...).get()", [&] { return f.get(); }) == squares_of(xs));
    {
        std::lock_guard lock(mutex);
        CHECK(results_calls == 1);  // once, with every result, before the future was ready
        CHECK(from_callback == squares_of(xs));
        CHECK(error_calls == 0);
    }

    auto failing = pool.map_async(checked_fn, xs, 5, on_result, on_error);
    CHECK_THROWS_MATCHES(within(kHang, "failing map_async", [&] { return failing.get(); }),
                         std::invalid_argument, Catch::Message("seven is not allowed"));
    {
        std::lock_guard lock(mutex);
        CHECK(results_calls == 1);  // no result callback for a failed map
        CHECK(error_calls == 1);    // one error callback, however many chunks went on
        CHECK(error_text == "seven is not allowed");
    }

    auto pairs = pool.starmap_async(shifted_fn, {{1, 2}, {3, 4}, {5, 6}}, 2);
    CHECK(within(kHang, "starmap_async", [&] { return pairs.get(); }) ==
          std::vector<std::int64_t>{12, 34, 56});

    // Empty input: an empty result at once, and the callback still runs.
    auto empty = pool.map_async(square_fn, std::vector<std::int64_t>{}, 1, on_result);
    CHECK(empty.get().empty());
    CHECK(from_callback.empty());
    CHECK(pool.map(square_fn, std::vector<std::int64_t>{}).empty());
    auto none = pool.imap(square_fn, std::vector<std::int64_t>{}, 3);
    CHECK_FALSE(none.next().has_value());

    CHECK_THROWS_AS(pool.map_async(square_fn, xs, 0), std::invalid_argument);
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

// CPython: test_imap, test_imap_unordered (chunk sizes 1, 100, 53), test_imap_handle_...
TEST_CASE("imap and imap_unordered take a chunk size; a failure comes at its place")
{
    ProcessPool pool(options_for_tests());
    auto square_fn = pool.def(square);
    auto checked_fn = pool.def(square_unless_7);
    pool.start();
    const auto xs = iota_vector(1000);

    SECTION("imap: input order, every chunk size, a callback per result") {
        for (std::size_t chunksize : {std::size_t{1}, std::size_t{100}, std::size_t{53}}) {
            INFO("chunksize " << chunksize);
            std::atomic<int> calls{0};
            auto stream = pool.imap(square_fn, xs, chunksize, [&](const std::int64_t&) { ++calls; });
            std::vector<std::int64_t> got;
            within(kHang, "imap", [&] {
                while (auto v = stream.next()) got.push_back(*v);
            });
            CHECK(got == squares_of(xs));
            CHECK(calls == 1000);
            CHECK_FALSE(stream.next().has_value());  // stays at the end
        }
    }
    SECTION("imap_unordered: every result once, whatever the order") {
        for (std::size_t chunksize : {std::size_t{1}, std::size_t{53}}) {
            INFO("chunksize " << chunksize);
            auto stream = pool.imap_unordered(square_fn, xs, chunksize);
            std::vector<std::int64_t> got;
            within(kHang, "imap_unordered", [&] {
                while (auto v = stream.next()) got.push_back(*v);
            });
            std::sort(got.begin(), got.end());
            CHECK(got == squares_of(xs));
        }
    }
    SECTION("imap: a failed task throws at its position, then the stream goes on") {
        const auto ten = iota_vector(10);
        std::atomic<int> errors{0};
        auto one = pool.imap(checked_fn, ten, 1, {}, [&](std::exception_ptr) { ++errors; });
        std::vector<std::int64_t> got;
        for (int i = 0; i < 7; ++i) got.push_back(*within(kHang, "imap next", [&] { return one.next(); }));
        CHECK(got == squares_of(iota_vector(7)));
        CHECK_THROWS_MATCHES(one.next(), std::invalid_argument, Catch::Message("seven is not allowed"));
        CHECK(one.next() == 64);
        CHECK(one.next() == 81);
        CHECK_FALSE(one.next().has_value());
        CHECK(errors == 1);
        // Chunks of 4: {0..3} {4..7} {8, 9}. The failure takes its chunk's place.
        auto chunked = pool.imap(checked_fn, ten, 4);
        for (std::int64_t x = 0; x < 4; ++x) CHECK(within(kHang, "imap next", [&] { return chunked.next(); }) == x * x);
        CHECK_THROWS_AS(chunked.next(), std::invalid_argument);
        CHECK(chunked.next() == 64);
        CHECK(chunked.next() == 81);
        CHECK_FALSE(chunked.next().has_value());
    }
    CHECK_THROWS_AS(pool.imap(square_fn, xs, 0), std::invalid_argument);
    CHECK_THROWS_AS(pool.imap_unordered(square_fn, xs, 0), std::invalid_argument);
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

// CPython: test_async_timeout (get(timeout) raises TimeoutError), IMapIterator.next(timeout).
TEST_CASE("a time-out on map and on the next result of a stream; the task still finishes")
{
    ProcessPool pool(options_for_tests());
    auto sleep_fn = pool.def(sleep_ms);
    auto square_fn = pool.def(square);
    pool.start();

    // A 2,000 ms task cannot be done after 50 ms, however fast the machine.
    CHECK_THROWS_AS(within(kHang, "map with a time-out",
                           [&] { return pool.map(sleep_fn, std::vector<std::int64_t>{2000}, 1, 50ms); }),
                    ResultTimeout);

    auto stream = pool.imap(sleep_fn, std::vector<std::int64_t>{2000, 1});
    CHECK_THROWS_AS(stream.next(50ms), ResultTimeout);
    CHECK(within(kHang, "next() after a time-out", [&] { return stream.next(); }) == 2000);  // not lost
    CHECK(within(kHang, "next(timeout) when it is there", [&] { return stream.next(10s); }) == 1);
    CHECK_FALSE(stream.next(10s).has_value());
    CHECK_THROWS_AS(stream.next(0ms), std::invalid_argument);

    auto unordered = pool.imap_unordered(sleep_fn, std::vector<std::int64_t>{2000});
    CHECK_THROWS_AS(unordered.next(50ms), ResultTimeout);
    CHECK(within(kHang, "imap_unordered next()", [&] { return unordered.next(); }) == 2000);

    // A time-out long enough changes nothing.
    CHECK(within(kHang, "map, time-out not reached",
                 [&] { return pool.map(square_fn, iota_vector(50), 5, 30s); }) == squares_of(iota_vector(50)));
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

// CPython: test_traceback / test_wrapped_exception (the same type is raised, with the
// worker's traceback attached), test_async_error_callback.
TEST_CASE("an exception keeps its standard type across the process boundary, with its origin")
{
    ProcessPool pool(options_for_tests());
    auto throw_fn = pool.def(throw_kind);
    auto checked_fn = pool.def(square_unless_7);
    pool.start();
    const auto workers = pool.worker_pids();

    struct Expected {
        const std::type_info& type;
        std::string what;
    };
    const std::vector<Expected> table{
        {typeid(FromWorker<std::invalid_argument>), "invalid_argument"},
        {typeid(FromWorker<std::domain_error>), "domain_error"},
        {typeid(FromWorker<std::length_error>), "length_error"},
        {typeid(FromWorker<std::out_of_range>), "out_of_range"},
        {typeid(FromWorker<std::logic_error>), "logic_error"},
        {typeid(FromWorker<std::range_error>), "range_error"},
        {typeid(FromWorker<std::overflow_error>), "overflow_error"},
        {typeid(FromWorker<std::underflow_error>), "underflow_error"},
        {typeid(FromWorker<std::runtime_error>), "runtime_error"},
        {typeid(FromWorker<std::system_error>), std::system_error(ENOENT, std::generic_category(), "open /no/such/file").what()},
        {typeid(FromWorker<std::bad_alloc>), std::bad_alloc().what()},
        {typeid(FromWorker<std::runtime_error>), "parse error at line 3"},  // nearest standard base
        {typeid(FromWorker<RemoteError>), std::bad_cast().what()},          // not a carried type
    };
    for (std::size_t k = 0; k < table.size(); ++k) {
        INFO("kind " << k << ": " << table[k].what);
        auto e = thrown_by([&] { within(kHang, "apply(throw_kind)", [&] { return pool.apply(throw_fn, static_cast<std::int64_t>(k)); }); });
        REQUIRE(e);
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            CHECK(typeid(x) == table[k].type);
            CHECK(std::string(x.what()) == table[k].what);
            const TaskOrigin* origin = origin_of(x);
            REQUIRE(origin != nullptr);
            CHECK(std::find(workers.begin(), workers.end(), origin->worker_pid) != workers.end());
            CHECK(origin->index == 0);
        }
    }
    SECTION("std::system_error keeps its error code") {
        try {
            pool.apply(throw_fn, 9);
            FAIL("no exception");
        } catch (const std::system_error& x) {
            CHECK(x.code() == std::errc::no_such_file_or_directory);
        }
    }
    SECTION("the origin names the failed task's position in the map's input") {
        for (std::size_t chunksize : {std::size_t{1}, std::size_t{3}}) {
            INFO("chunksize " << chunksize);
            try {
                within(kHang, "map(square_unless_7)", [&] { return pool.map(checked_fn, iota_vector(20), chunksize); });
                FAIL("no exception");
            } catch (const std::invalid_argument& x) {
                REQUIRE(origin_of(x) != nullptr);
                CHECK(origin_of(x)->index == 7);
            }
        }
        auto stream = pool.imap(checked_fn, iota_vector(10), 2);
        for (int i = 0; i < 3; ++i) (void)within(kHang, "imap next", [&] { return stream.next(); });
        try {
            while (stream.next()) {}
            FAIL("no exception");
        } catch (const std::invalid_argument& x) {
            REQUIRE(origin_of(x) != nullptr);
            CHECK(origin_of(x)->index == 7);
        }
    }
    SECTION("an exception made in this process has no origin") {
        std::invalid_argument local("here");
        CHECK(origin_of(local) == nullptr);
    }
    CHECK(pool.workers_started() == 2);  // an exception is not a crash
    pool.close();
    pool.join();
    CHECK(no_child_left());
}

// CPython: _TestPoolWorkerLifetime.test_pool_worker_lifetime (maxtasksperchild=10).
TEST_CASE("max_tasks_per_child = 10: workers are replaced, every result arrives")
{
    PoolOptions options = options_for_tests(3);
    options.max_tasks_per_child = 10;
    ProcessPool pool(options);
    auto pid_fn = pool.def(pid_of);
    pool.start();
    const auto before = pool.worker_pids();
    auto pids = within(kHang, "map over 100 tasks", [&] { return pool.map(pid_fn, iota_vector(100)); });
    REQUIRE(pids.size() == 100);
    std::set<std::int64_t> distinct(pids.begin(), pids.end());
    CHECK(distinct.size() >= 10);  // 100 tasks, at most 10 per worker
    for (auto pid : distinct) CHECK(std::count(pids.begin(), pids.end(), pid) <= 10);
    CHECK(pool.worker_pids() != before);
    pool.close();
    within(kHang, "join", [&] { pool.join(); });
    CHECK(pool.worker_pids().empty());
    CHECK(no_child_left());
}

// The mix, through the new calls: 10 B, 5 KB, 70 KB and 1 MiB results, strings
// and vectors, in map_async and both streams with chunk sizes, with two pools alive.
TEST_CASE("mixed-size strings and vectors through map_async and the streams, two pools alive")
{
    ProcessPool a(options_for_tests()), b(options_for_tests());
    auto a_text = a.def(text_of_size);
    auto b_numbers = b.def(numbers_of_count);
    a.start();
    b.start();
    const std::vector<std::int64_t> kinds{10, 5000, 70000, 1 << 20};
    std::vector<std::int64_t> sizes;
    for (std::size_t i = 0; i < 32; ++i) sizes.push_back(kinds[(i * 5 + i / 4) % kinds.size()]);
    std::vector<std::int64_t> counts;
    for (auto s : sizes) counts.push_back(std::max<std::int64_t>(s / 8, 1));

    auto texts = a.map_async(a_text, sizes, 3);
    auto vectors = b.imap_unordered(b_numbers, counts, 2);
    auto ordered = a.imap(a_text, sizes, 5);
    std::size_t right_vectors = 0;
    within(kHang, "imap_unordered of vectors on b", [&] {
        while (auto v = vectors.next())
            right_vectors += std::find(counts.begin(), counts.end(), static_cast<std::int64_t>(v->size())) !=
                                 counts.end() &&
                             *v == numbers_of_count(static_cast<std::int64_t>(v->size()));
    });
    CHECK(right_vectors == counts.size());
    auto got = within(kHang, "map_async of strings on a", [&] { return texts.get(); });
    bool right = got.size() == sizes.size();
    for (std::size_t i = 0; right && i < sizes.size(); ++i) right = got[i] == text_of_size(sizes[i]);
    CHECK(right);
    std::size_t i = 0;
    bool in_order = true;
    within(kHang, "imap of strings on a", [&] {
        while (auto t = ordered.next()) in_order = in_order && i < sizes.size() && *t == text_of_size(sizes[i++]);
    });
    CHECK((in_order && i == sizes.size()));
    a.close();
    within(kHang, "a.join() while b lives", [&] { a.join(); });
    b.close();
    within(kHang, "b.join()", [&] { b.join(); });
    CHECK(a.workers_started() == 2);
    CHECK(b.workers_started() == 2);
    CHECK(no_child_left());
}

// concurrent.futures: BrokenProcessPool, and every later submission refused.
TEST_CASE("a broken pool says so and refuses map_async and the streams too")
{
    auto seen = within(kHang, "a pool whose initializer throws", [] {
        PoolOptions options = options_for_tests(1);
        options.initializer = [] {
            worker_setup();
            throw std::runtime_error("no licence");
        };
        ProcessPool pool(options);
        auto square_fn = pool.def(square);
        pool.start();
        std::vector<std::string> seen;
        try {
            // The worker may fail before or after this submission: then map_async
            // itself refuses the work, or get() reports it. Both are BrokenPool.
            auto f = pool.map_async(square_fn, iota_vector(5));
            f.get();
        } catch (const BrokenPool& e) {
            seen.push_back(std::string("BrokenPool ") + e.what());
        } catch (...) {
            seen.push_back("other");
        }
        seen.push_back(pool.broken() ? "broken" : "not broken");
        for (int k = 0; k < 3; ++k) {
            try {
                if (k == 0) (void)pool.map_async(square_fn, iota_vector(5));
                if (k == 1) (void)pool.imap(square_fn, iota_vector(5));
                if (k == 2) (void)pool.imap_unordered(square_fn, iota_vector(5), 2);
                seen.push_back("accepted");
            } catch (const BrokenPool&) {
                seen.push_back("refused");
            }
        }
        pool.close();
        pool.join();
        return seen;
    });
    REQUIRE(seen.size() == 5);
    CHECK(seen[0].starts_with("BrokenPool the initializer failed"));
    CHECK(seen[0].find("no licence") != std::string::npos);
    CHECK(seen[1] == "broken");
    CHECK(seen[2] == "refused");
    CHECK(seen[3] == "refused");
    CHECK(seen[4] == "refused");
    CHECK(no_child_left());
}
