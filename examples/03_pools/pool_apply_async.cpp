// pool_apply_async.cpp - step 4: apply_async(). submit() returns at once with a
// std::shared_future; a result thread in the parent (Python's Pool has one too) reads
// the replies, calls the callback or the error callback, then fulfils the promise.
// A task that throws in the worker comes back as an error reply, not a dead worker.
#include <sys/wait.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

std::int64_t slow_square(std::int64_t x) {  // the task: x ms of "work"
    if (x < 0) throw std::invalid_argument("negative input " + std::to_string(x));
    ::usleep(static_cast<useconds_t>(x * 1000));
    return x * x;
}

struct Task { std::uint32_t index; std::int64_t arg; };
struct Reply { std::uint32_t index; bool ok; std::int64_t value; char error[48]; };  // <= PIPE_BUF
struct RemoteError : std::runtime_error { using std::runtime_error::runtime_error; };

class Pool {
public:
    using Callback = std::function<void(std::int64_t)>;
    using ErrorCallback = std::function<void(const std::string&)>;
    explicit Pool(int n) {  // a throw destroys the members built so far
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        tasks_read_ = Fd(fds[0]), tasks_write_ = Fd(fds[1]);
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        replies_read_ = Fd(fds[0]), replies_write_ = Fd(fds[1]);
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");  // before the thread: fork copies one thread
            if (pid == 0) child([this] { return work(); });
            workers_.pids.push_back(pid);
        }
        replies_write_.close();  // the workers hold the only write ends: all dead -> EOF
        results_thread_ = std::thread([this] { take_replies(); });
    }
    ~Pool() {  // terminate(): kill and reap, then the result thread sees end of file
        workers_.kill_all();
        if (results_thread_.joinable()) results_thread_.join();
    }
    std::shared_future<std::int64_t> apply_async(std::int64_t x, Callback cb = {}, ErrorCallback eb = {}) {
        std::unique_lock lock(mutex_);
        const std::uint32_t index = next_index_++;
        Pending& p = pending_[index];
        p.callback = std::move(cb);
        p.error_callback = std::move(eb);
        auto future = p.promise.get_future().share();
        lock.unlock();
        send(tasks_write_.get(), Task{index, x});
        return future;
    }

private:
    struct Pending { std::promise<std::int64_t> promise; Callback callback; ErrorCallback error_callback; };
    int work() {  // in the worker: every exception becomes an error reply
        tasks_write_.close();
        for (Task t; receive(tasks_read_.get(), t);) {
            Reply r{t.index, true, 0, {}};
            try { r.value = slow_square(t.arg); }
            catch (const std::exception& e) { r.ok = false; std::strncpy(r.error, e.what(), sizeof r.error - 1); }
            catch (...) { r.ok = false; std::strncpy(r.error, "unknown exception", sizeof r.error - 1); }
            send(replies_write_.get(), r);
        }
        return 0;
    }
    void take_replies() {  // the result thread
        for (Reply r; receive(replies_read_.get(), r);) {
            Pending p;
            {
                std::lock_guard lock(mutex_);
                p = std::move(pending_.at(r.index));
                pending_.erase(r.index);
            }
            if (r.ok) {
                if (p.callback) p.callback(r.value);  // as in Python: callback, then ready
                p.promise.set_value(r.value);
            } else {
                if (p.error_callback) p.error_callback(r.error);
                p.promise.set_exception(std::make_exception_ptr(RemoteError(r.error)));
            }
        }
        std::lock_guard lock(mutex_);  // end of file: no worker left to answer these
        for (auto& [index, p] : pending_)
            p.promise.set_exception(std::make_exception_ptr(RemoteError("worker lost")));
    }
    struct Workers {  // the owner: kills and reaps those still running
        std::vector<pid_t> pids;
        void kill_all() { for (pid_t p : pids) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); pids.clear(); }
        ~Workers() { kill_all(); }
    };
    Fd tasks_read_, tasks_write_, replies_read_, replies_write_;
    Workers workers_;
    std::thread results_thread_;
    std::mutex mutex_;
    std::map<std::uint32_t, Pending> pending_;
    std::uint32_t next_index_ = 0;
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_apply_async", [] {
        using namespace std::chrono_literals;
        Pool pool(2);
        std::int64_t seen_by_callback = -1;  // written by the result thread before get() returns
        auto slow = pool.apply_async(40, [&](std::int64_t v) { seen_by_callback = v; });
        const bool timed_out = slow.wait_for(5ms) == std::future_status::timeout;  // a 40 ms task
        std::cout << "get(timeout=5 ms): " << (timed_out ? "TimeoutError, as expected" : "ready?!") << '\n';
        const std::int64_t v = slow.get();
        std::cout << "get() = " << v << ", callback saw " << seen_by_callback << '\n';

        std::string error_seen;
        auto bad = pool.apply_async(-3, {}, [&](const std::string& e) { error_seen = e; });
        bad.wait();
        bool raised = false;
        try { bad.get(); } catch (const RemoteError& e) { raised = true; std::cout << "get() raised RemoteError: " << e.what() << '\n'; }
        std::cout << "error_callback saw: " << error_seen << '\n';
        const bool ok = timed_out && v == 1600 && seen_by_callback == 1600 && raised &&
                        error_seen == "negative input -3";
        std::cout << (ok ? "OK" : "FAILED") << ": futures, callbacks and a worker's exception\n";
        return ok;
    });
}
