// Tasks for the pool's tests (test_pool_defects, test_pool_python, test_pool_throughput):
// the demonstration's square, tag_of, fragile and sleepy, and results of every size whose
// content depends on n, so a result spliced from two others, or another task's result,
// is never equal to the right one.
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

inline int g_worker_tag = 0;  // set by a test's initializer in each worker

inline std::int64_t square(std::int64_t x) { return x * x; }

inline std::string tag_of(std::int64_t)  // which initialised worker ran me
{
    return "worker " + std::to_string(::getpid()) + " tag " + std::to_string(g_worker_tag);
}

inline std::int64_t fragile(std::int64_t x)
{
    if (x == 3) throw std::domain_error("fragile(3): three is not allowed");
    if (x == 5) std::abort();  // a crash, as a failed assert() would cause
    return x;
}

inline std::int64_t sleepy(std::int64_t ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}

inline std::string text_of_size(std::int64_t n)
{
    std::string s(static_cast<std::size_t>(n), 'a');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + (i * 7 + n) % 26);
    return s;
}

inline std::vector<std::int64_t> numbers_of_count(std::int64_t n)
{
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = n * 1000 + static_cast<std::int64_t>(i);
    return v;
}
