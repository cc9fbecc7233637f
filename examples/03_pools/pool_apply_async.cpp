// pool_apply_async.cpp - step 4: apply_async(). submit() returns at once with a
// std::shared_future; a result thread in the parent (Python's Pool has one too) reads
// the replies, calls the callback or the error callback, then fulfils the promise.
// A task that throws in the worker comes back as an error reply, not a dead worker.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

namespace {
int check(int rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

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
    explicit Pool(int n) : Pool() {  // delegating: if this throws, ~Pool() still runs
        check(::pipe2(tasks_, O_CLOEXEC), "pipe2");
        check(::pipe2(replies_, O_CLOEXEC), "pipe2");
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");  // before the thread: fork copies one thread
            if (pid == 0) _exit(work());
            pids_.push_back(pid);
        }
        ::close(replies_[1]);  // the workers hold the only write ends: all dead -> EOF
        replies_[1] = -1;
        results_thread_ = std::thread([this] { take_replies(); });
    }
    ~Pool() {  // terminate(): kill, reap, then the result thread sees end of file
        for (pid_t p : pids_) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
        if (results_thread_.joinable()) results_thread_.join();
        for (int fd : {tasks_[0], tasks_[1], replies_[0], replies_[1]}) if (fd != -1) ::close(fd);
    }
    std::shared_future<std::int64_t> apply_async(std::int64_t x, Callback cb = {}, ErrorCallback eb = {}) {
        std::unique_lock lock(mutex_);
        const std::uint32_t index = next_index_++;
        Pending& p = pending_[index];
        p.callback = std::move(cb);
        p.error_callback = std::move(eb);
        auto future = p.promise.get_future().share();
        lock.unlock();
        const Task t{index, x};
        check(static_cast<int>(::write(tasks_[1], &t, sizeof t)), "write");
        return future;
    }

private:
    Pool() = default;
    struct Pending { std::promise<std::int64_t> promise; Callback callback; ErrorCallback error_callback; };
    int work() {  // in the worker: every exception becomes an error reply
        ::close(tasks_[1]);
        Task t;
        while (::read(tasks_[0], &t, sizeof t) == sizeof t) {
            Reply r{t.index, true, 0, {}};
            try { r.value = slow_square(t.arg); }
            catch (const std::exception& e) { r.ok = false; std::strncpy(r.error, e.what(), sizeof r.error - 1); }
            catch (...) { r.ok = false; std::strncpy(r.error, "unknown exception", sizeof r.error - 1); }
            if (::write(replies_[1], &r, sizeof r) != sizeof r) return 1;
        }
        return 0;
    }
    void take_replies() {  // the result thread
        Reply r;
        while (::read(replies_[0], &r, sizeof r) == sizeof r) {
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
    int tasks_[2]{-1, -1}, replies_[2]{-1, -1};
    std::vector<pid_t> pids_;
    std::thread results_thread_;
    std::mutex mutex_;
    std::map<std::uint32_t, Pending> pending_;
    std::uint32_t next_index_ = 0;
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
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
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // main catches: the call's name and errno
        std::cerr << "pool_apply_async: " << e.what() << '\n';
        return 1;
    }
}
