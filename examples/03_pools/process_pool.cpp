// process_pool.cpp — the pool of process_pool.hpp at work: every feature once, each
// claim checked. Chapter 6 (process_pool_vs_python) times map() against Python's Pool.map.
//
// The pool is one header: copy process_pool.hpp next to your program and include it.
#include "process_pool.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

int g_worker_tag = 0;  // set by the initializer in each worker

std::int64_t square(std::int64_t x) { return x * x; }

std::string tag_of(std::int64_t)  // which initialised worker ran me
{
    return "worker " + std::to_string(::getpid()) + " tag " + std::to_string(g_worker_tag);
}

std::int64_t fragile(std::int64_t x)
{
    if (x == 3) throw std::domain_error("fragile(3): three is not allowed");
    if (x == 5) std::abort();  // a crash, as a failed assert() in C++ code would cause
    return x;
}

std::int64_t sleepy(std::int64_t ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}

bool say(const char* claim, bool ok)
{
    std::cout << (ok ? "ok   " : "FAIL ") << claim << '\n';
    return ok;
}

}  // namespace

int demo();

int main(int argc, char** argv)
{
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return demo();
    } catch (const std::exception& e) {  // a failed call: "<program>: <what>", exit 1
        std::cerr << "process_pool: " << e.what() << '\n';
        return 1;
    }
}

int demo()
{
    std::mutex log_mutex;
    std::vector<std::string> lost;
    PoolOptions options;
    options.workers = 2;
    options.max_tasks_per_child = 4;
    options.initializer = [] { g_worker_tag = 42; };
    options.task_timeout = std::chrono::milliseconds(1000);
    options.on_worker_lost = [&](const std::string& why) {
        std::lock_guard lock(log_mutex);
        lost.push_back(why);
    };

    ProcessPool pool(options);
    auto square_fn = pool.def(square);
    auto tag_fn = pool.def(tag_of);
    auto fragile_fn = pool.def(fragile);
    auto sleepy_fn = pool.def(sleepy);
    std::int64_t offset = 1000;  // captured by value, copied into every worker by fork
    auto shifted_fn = pool.def<std::int64_t(std::int64_t, std::int64_t)>(
        [offset](std::int64_t a, std::int64_t b) { return offset + a * b; });
    pool.start();

    bool ok = true;
    std::vector<std::int64_t> xs{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    auto squares = pool.map(square_fn, xs, 3);
    ok &= say("map(square, 0..9, chunksize 3) is ordered",
              squares == std::vector<std::int64_t>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81});
    ok &= say("apply(square, 12) == 144", pool.apply(square_fn, 12) == 144);
    ok &= say("starmap(capturing lambda, tuples) == 1000 + a*b",
              pool.starmap(shifted_fn, {{2, 3}, {4, 5}}) == std::vector<std::int64_t>{1006, 1020});

    std::vector<std::int64_t> sorted_seen;
    auto unordered = pool.imap_unordered(square_fn, std::vector<std::int64_t>{1, 2, 3});
    while (auto v = unordered.next()) sorted_seen.push_back(*v);
    std::sort(sorted_seen.begin(), sorted_seen.end());
    ok &= say("imap_unordered yields every result once",
              sorted_seen == std::vector<std::int64_t>{1, 4, 9});

    auto tag = pool.apply(tag_fn, 0);
    ok &= say("initializer ran in the worker (tag 42)", tag.ends_with("tag 42"));

    std::atomic<int> callbacks{0};
    auto f = pool.apply_async(square_fn, {7}, [&](const std::int64_t&) { ++callbacks; });
    ok &= say("apply_async future == 49 and callback ran", f.get() == 49 && callbacks == 1);

    try {
        pool.apply(fragile_fn, 3);
        ok &= say("exception in worker reaches caller", false);
    } catch (const std::domain_error& e) {  // the worker's type, as in Python
        const TaskOrigin* origin = origin_of(e);
        ok &= say("std::domain_error in a worker reaches the caller as std::domain_error",
                  std::string(e.what()) == "fragile(3): three is not allowed" && origin &&
                      origin->worker_pid != ::getpid());
    } catch (const std::exception& e) {
        ok &= say(e.what(), false);
    }
    try {
        pool.apply(fragile_fn, 5);
        ok &= say("crashed worker is reported", false);
    } catch (const WorkerLost& e) {
        ok &= say("a crashed worker fails its task with WorkerLost",
                  std::string(e.what()).find("signal 6") != std::string::npos);
    } catch (const std::exception& e) {
        ok &= say(e.what(), false);
    }
    try {
        pool.apply(sleepy_fn, 5000);
        ok &= say("time-out fires", false);
    } catch (const TaskTimeout&) {
        ok &= say("a 5 s task is stopped by the 1000 ms time-out", true);
    } catch (const std::exception& e) {
        ok &= say(e.what(), false);
    }
    ok &= say("the pool still works after crash and time-out", pool.apply(square_fn, 9) == 81);

    std::atomic<int> map_callbacks{0};
    auto all = pool.map_async(square_fn, xs, 4, [&](const std::vector<std::int64_t>&) { ++map_callbacks; });
    ok &= say("map_async future holds all squares and its callback ran",
              all.get() == squares && map_callbacks == 1);
    auto stream = pool.imap(sleepy_fn, std::vector<std::int64_t>{300, 1}, 2);
    try {
        stream.next(std::chrono::milliseconds(20));
        ok &= say("next(20 ms) on a 300 ms task times out", false);
    } catch (const ResultTimeout&) {
        ok &= say("imap(chunksize 2).next(20 ms) on a 300 ms task throws ResultTimeout",
                  stream.next() == 300 && stream.next() == 1);  // the results are not lost
    }
    ok &= say("2 workers lost (crash, time-out) and reported", lost.size() == 2);
    ok &= say("workers replaced: more than 2 were started", pool.workers_started() > 2);

    pool.close();
    pool.join();
    ok &= say("close + join: no worker left", pool.worker_pids().empty());
    std::cout << "workers started in total: " << pool.workers_started() << '\n';
    for (auto& why : lost) std::cout << "reported: " << why << '\n';
    std::cout << (ok ? "OK" : "FAILED") << ": ProcessPool works as advertised\n";
    return ok ? 0 : 1;
}
