// no_gil.cpp - C++ has no GIL: two threads run CPU-bound work on two cores
// at the same time. (In CPython only one thread runs Python code at a time,
// which is why Python needs processes for this.)
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

// Pure CPU work: no memory traffic, no system calls, nothing to wait for.
unsigned long long burn(unsigned long long from, unsigned long long to) {
    unsigned long long acc = 0;
    for (auto i = from; i < to; ++i) acc += (i * i) % 7;
    return acc;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        constexpr unsigned long long n = 100'000'000;

        auto start = Clock::now();
        const auto serial = burn(0, n);
        const double one = ms_since(start);

        start = Clock::now();
        unsigned long long halves[2] = {};
        {
            std::jthread a([&] { halves[0] = burn(0, n / 2); });
            std::jthread b([&] { halves[1] = burn(n / 2, n); });
        }  // both joined here
        const double two = ms_since(start);

        // The figure depends on the machine and its load, so it is printed,
        // never checked; only the sum decides the exit status.
        const double speedup = one / two;
        std::printf("1 thread %.0f ms, 2 threads %.0f ms: speed-up %.1fx on %u cores "
                    "(target 1.5x: %s)\n",
                    one, two, speedup, std::thread::hardware_concurrency(),
                    speedup >= 1.5 ? "met" : "not met");
        const bool equal = serial == halves[0] + halves[1];
        std::printf("the two halves add up to the serial sum %s\n", equal ? "✓" : "✗");
        return equal ? 0 : 1;
    } catch (const std::exception& e) {  // std::jthread throws std::system_error
        std::cerr << "no_gil: " << e.what() << '\n';
        return 1;
    }
}
