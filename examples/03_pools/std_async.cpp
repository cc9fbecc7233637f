// std_async.cpp — the same "map" with std::async: one new thread per call, no pool.
//
// Python:  ThreadPoolExecutor().submit(f, x) for each x; here std::async(f, x). Each
// call returns a std::future; reading them in submission order keeps the results
// ordered, as Pool.map does. No process, no serialising: one PID throughout.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <iostream>
#include <set>
#include <thread>
#include <vector>

namespace {

struct Answer {
    std::int64_t value;
    std::thread::id thread;
    pid_t process;
};

Answer square(std::int64_t x) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return {x * x, std::this_thread::get_id(), ::getpid()};
}

// Collect futures in submission order: the results are ordered, like Pool.map.
bool report(const char* name, std::vector<std::future<Answer>>& futures) {
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

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::cerr << "usage: std_async\n";
        return 2;
    }
    // std::launch::async: a new thread per call, now (the default may defer it to get()).
    std::vector<std::future<Answer>> asyncs;
    for (std::int64_t i = 0; i < 12; ++i)
        asyncs.push_back(std::async(std::launch::async, square, i));
    const bool ok = report("std::async", asyncs);
    std::cout << (ok ? "OK" : "FAILED")
              << ": threads share the process; nothing was serialised or forked\n";
    return ok ? 0 : 1;
}
