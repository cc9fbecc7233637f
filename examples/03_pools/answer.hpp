// ANCHOR: answer
// answer.hpp — what thread_pool_async.cpp and std_async.cpp share: a task that says
// where it ran, and a report that reads the futures in submission order (the results
// come back ordered, as with Pool.map) and checks where the work happened.
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <set>
#include <thread>
#include <vector>

struct Answer {
    std::int64_t value;
    std::thread::id thread;
    pid_t process;
};

inline Answer square(std::int64_t x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return {x * x, std::this_thread::get_id(), ::getpid()};
}

// get() in submission order; a broken promise (a job that never ran) throws here.
inline bool report(const char* name, std::vector<std::future<Answer>>& futures) {
    std::set<std::thread::id> threads;
    bool ordered = true, same_process = true;
    std::cout << name << ":";
    for (std::size_t i = 0; i < futures.size(); ++i) {
        Answer a = futures[i].get();
        std::cout << ' ' << a.value;
        ordered = ordered && a.value == static_cast<std::int64_t>(i * i);
        same_process = same_process && a.process == ::getpid();
        threads.insert(a.thread);
    }
    bool spread = threads.size() > 1 && !threads.count(std::this_thread::get_id());
    std::cout << "\n" << name << ": in order: " << (ordered ? "yes" : "NO")
              << ", on other threads: " << (spread ? "yes" : "NO")
              << ", all in this process (pid shared): " << (same_process ? "yes" : "NO")
              << '\n';
    return ordered && spread && same_process;
}
// ANCHOR_END: answer
