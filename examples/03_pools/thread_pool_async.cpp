// thread_pool_async.cpp — the same "map" done by a thread pool (std_async.cpp: by
// std::async).
//
// Python:  ThreadPoolExecutor / concurrent.futures, limited by the GIL for CPU work.
// C++ threads run CPU-bound work truly in parallel, share memory (no serialising, any
// lambda will do) — and share fate: one crash ends the whole process.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include "answer.hpp"  // square(x) says where it ran; report() reads the futures in order

namespace {

// A fixed set of threads taking jobs from one queue. submit() returns a std::future,
// the thread-world twin of Python's AsyncResult.
class ThreadPool {
public:
    explicit ThreadPool(unsigned n) {
        for (unsigned i = 0; i < n; ++i)
            threads_.emplace_back([this](std::stop_token stop) { run(stop); });
    }
    // std::jthread's destructor asks each thread to stop and joins it; the condition
    // variable must hear the stop request too, hence condition_variable_any. Queued jobs
    // still run: wait(lock, stop, pred) gives up only while the queue is empty, so the
    // threads drain it before they stop (Python: close() + join(), not terminate()).
    ~ThreadPool() = default;

    template <class F>
    auto submit(F f) -> std::future<decltype(f())> {
        // packaged_task is move-only; std::function needs copyable, so hold it by pointer.
        auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
        auto future = task->get_future();
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back([task] { (*task)(); });
        }
        ready_.notify_one();
        return future;
    }

private:
    void run(std::stop_token stop) {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock lock(mutex_);
                if (!ready_.wait(lock, stop, [this] { return !jobs_.empty(); })) return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            job();  // outside the lock: other threads keep taking jobs meanwhile
        }
    }

    std::mutex mutex_;
    std::condition_variable_any ready_;
    std::deque<std::function<void()>> jobs_;
    std::vector<std::jthread> threads_;  // last member: threads stop before the queue dies
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::cerr << "usage: thread_pool_async\n";
        return 2;
    }
    const std::int64_t n = 12;

    // A thread pool: 3 threads, 12 jobs. The lambda captures a local by reference —
    // impossible to send to another process, trivial for a thread.
    std::int64_t offset = 0;
    std::vector<std::future<Answer>> pooled;
    {
        ThreadPool pool(3);
        for (std::int64_t i = 0; i < n; ++i)
            pooled.push_back(pool.submit([i, &offset] { return square(i + offset); }));
        // No wait here: leaving the block runs every queued job first (see ~ThreadPool).
        // A dropped job would break its promise, and report() would throw.
    }
    const bool ok = report("thread pool", pooled);
    std::cout << (ok ? "OK" : "FAILED")
              << ": threads share the process; nothing was serialised or forked\n";
    return ok ? 0 : 1;
}
