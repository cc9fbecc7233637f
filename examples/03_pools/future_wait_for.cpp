// future_wait_for.cpp - std::future has no as_completed(): wait_for() asks one future.
// Waiting on each in turn reports a fast task late; asking all of them in a loop
// reports it on time, but the loop wakes up again and again: that is polling.
#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

// Three tasks; task 0 waits for task 1, so task 1 always finishes first.
std::vector<std::shared_future<int>> launch() {
    auto one = std::async(std::launch::async, [] { std::this_thread::sleep_for(20ms); return 1; }).share();
    auto zero = std::async(std::launch::async, [one] { one.wait(); std::this_thread::sleep_for(30ms); return 0; }).share();
    auto two = std::async(std::launch::async, [] { std::this_thread::sleep_for(80ms); return 4; }).share();
    return {zero, one, two};
}

// Python's "for f in fs: f.result()": in submission order, each get() blocks.
// Returns whether task 1 was already ready while we were still blocked on task 0.
bool one_waited_behind_zero(std::vector<std::shared_future<int>> fs) {
    fs[0].get();
    const bool waited = fs[1].wait_for(0s) == std::future_status::ready;
    fs[1].get();
    fs[2].get();
    return waited;
}

// The closest std::future comes to as_completed(): ask every future, sleep, ask again.
std::vector<int> by_polling(std::vector<std::shared_future<int>> fs, int& rounds) {
    std::vector<int> order;
    std::vector<bool> reported(fs.size(), false);
    for (rounds = 0; order.size() < fs.size(); ++rounds) {
        for (std::size_t i = 0; i < fs.size(); ++i)
            if (!reported[i] && fs[i].wait_for(0s) == std::future_status::ready) {
                reported[i] = true;
                order.push_back(static_cast<int>(i));
            }
        if (order.size() < fs.size()) std::this_thread::sleep_for(2ms);  // the price of latency
    }
    return order;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool one_late = one_waited_behind_zero(launch());
        std::cout << "get() in submission order: task 1 was ready before task 0, reported after it: "
                  << (one_late ? "yes ✓" : "no ✗") << '\n';

        int rounds = 0;
        const auto early = by_polling(launch(), rounds);
        std::cout << "wait_for(0s) on each, in a loop: reported";
        for (int i : early) std::cout << " task " << i;
        const std::vector<int> all{0, 1, 2};
        const bool each_once = std::is_permutation(early.begin(), early.end(), all.begin(), all.end());
        std::cout << (each_once ? " (each once ✓)" : " ✗") << '\n';
        std::cout << "the loop asked " << rounds << " times for 3 results; poll() would have woken 3 times\n";
        return one_late && each_once ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "future_wait_for: " << e.what() << '\n';
        return 1;
    }
}
