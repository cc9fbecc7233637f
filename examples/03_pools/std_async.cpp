// std_async.cpp — the same "map" with std::async: one new thread per call, no pool.
//
// Python:  ThreadPoolExecutor().submit(f, x) for each x; here std::async(f, x). Each
// call returns a std::future; reading them in submission order keeps the results
// ordered, as Pool.map does. No process, no serialising: one PID throughout.
#include <cstdint>
#include <future>
#include <iostream>
#include <vector>

#include "answer.hpp"  // square(x) says where it ran; report() reads the futures in order

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
