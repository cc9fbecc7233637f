// stats.hpp — what chapter 6's timing programs share: the median and spread of
// repeated measurements, each timed on its own.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

struct Stats {
    double median, min, max;  // microseconds
};

inline Stats summarise(std::vector<double> us)
{
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us.front(), us.back()};
}

/// Time `n` calls of `once`, each measured on its own.
inline Stats time_each(int n, const std::function<void()>& once)
{
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        once();
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    return summarise(us);
}
