// imap_async.cpp — results as they come: imap, imap_unordered, apply_async with a
// std::future, callbacks, and a worker's exception re-raised in the caller.
//
// Python:  for r in pool.imap(f, xs): ...          # lazy, in input order
//          for r in pool.imap_unordered(f, xs): ... # lazy, in completion order
//          ar = pool.apply_async(f, (x,), callback=cb, error_callback=ecb); ar.get()
//
// apply_async needs someone to receive results while the caller does something else:
// here a dispatcher thread in the parent polls the workers' sockets and fulfils a
// std::promise per task (Python's Pool has the same "result handler" thread).
// Workers are fork()ed copies of this program, so a task names its function by an index
// into a registry filled before start(); nothing is pickled.
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace wire {

inline void check(bool ok, const char* what)
{
    if (!ok) throw std::system_error(errno, std::generic_category(), what);
}

// Values travel as raw bytes (trivially copyable types) or <u32 length><bytes> (strings).
template <class T>
void put(std::string& out, const T& value)
{
    if constexpr (std::is_same_v<T, std::string>) {
        put(out, static_cast<std::uint32_t>(value.size()));
        out += value;
    } else {
        static_assert(std::is_trivially_copyable_v<T>, "send plain values or std::string");
        out.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
}

template <class T>
T take(std::string_view& in)
{
    if constexpr (std::is_same_v<T, std::string>) {
        auto n = take<std::uint32_t>(in);
        if (in.size() < n) throw std::runtime_error("truncated message");
        std::string s(in.substr(0, n));
        in.remove_prefix(n);
        return s;
    } else {
        if (in.size() < sizeof(T)) throw std::runtime_error("truncated message");
        T value;
        std::memcpy(&value, in.data(), sizeof value);
        in.remove_prefix(sizeof value);
        return value;
    }
}

inline void write_all(int fd, const char* p, std::size_t n)
{
    while (n > 0) {
        ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);  // EPIPE, not SIGPIPE, if the peer died
        if (k < 0 && errno == EINTR) continue;
        check(k >= 0, "send");
        p += k;
        n -= static_cast<std::size_t>(k);
    }
}

inline bool read_all(int fd, char* p, std::size_t n)  // false: end of file
{
    while (n > 0) {
        ssize_t k = ::read(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        check(k >= 0, "read");
        if (k == 0) return false;
        p += k;
        n -= static_cast<std::size_t>(k);
    }
    return true;
}

// A frame is <u32 length><payload>: a stream socket has no message boundaries.
inline void send_frame(int fd, std::string_view payload)
{
    std::string frame;
    put(frame, static_cast<std::uint32_t>(payload.size()));
    frame += payload;
    write_all(fd, frame.data(), frame.size());
}

inline std::optional<std::string> recv_frame(int fd)  // nullopt: the peer has gone
{
    std::uint32_t n = 0;
    if (!read_all(fd, reinterpret_cast<char*>(&n), sizeof n)) return std::nullopt;
    std::string payload(n, '\0');
    if (!read_all(fd, payload.data(), n)) return std::nullopt;
    return payload;
}

}  // namespace wire

// The task raised an exception in the worker; what() is that exception's message.
struct RemoteError : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The worker running the task died (crash, signal, exit) while running the task.
struct WorkerLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// The pool was terminated before the task finished, or a task was submitted after close().
struct PoolClosed : std::runtime_error {
    using std::runtime_error::runtime_error;
};


// A function registered with Pool::def(): what a task sends instead of a closure.
template <class Sig>
struct Function;
template <class R, class... A>
struct Function<R(A...)> {
    std::uint32_t index;  // position in the pool's registry
};

// A sequence of results produced by Pool::imap() or imap_unordered().
template <class T>
class ResultStream {
public:
    // The next result, blocking until it is there; std::nullopt after the last one.
    // Rethrows the task's exception (RemoteError, WorkerLost, ...) at its position.
    std::optional<T> next() { return next_(); }
    explicit ResultStream(std::function<std::optional<T>()> next) : next_(std::move(next)) {}

private:
    std::function<std::optional<T>()> next_;
};

// A pool of forked worker processes: Python's multiprocessing.Pool for C++20 on Linux.
//
// Register every function with def(), then start(). Submit work with apply(),
// apply_async(), map(), starmap(), starmap_async(), imap() or imap_unordered(); finish
// with close() and join(), or terminate(). The destructor terminates a pool that was
// not joined, like leaving Python's ``with Pool() as pool:`` block.
//
// Arguments and results must be trivially copyable or std::string. After start(), tasks
// may be submitted from any thread. Callbacks run on the pool's dispatcher thread: keep
// them short and never wait on the pool from inside one.
class Pool {
public:
    // Creates a pool; no process is started before start().
    explicit Pool(std::size_t workers) : worker_count_(workers) {}
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    // Terminates the pool unless join() already ended it.
    ~Pool()
    {
        if (dispatcher_.joinable()) terminate();
    }

    // Registers a plain function; call before start().
    template <class R, class... A>
    Function<R(A...)> def(R (*fn)(A...))
    {
        return def<R(A...)>(fn);
    }

    // Registers any callable, even a capturing lambda, under signature Sig; call before
    // start(). Workers are forks, so each gets its own copy of the callable.
    template <class Sig, class F>
    Function<Sig> def(F fn)
    {
        return Definer<Sig>::add(*this, std::move(fn));
    }

    // Forks the workers and starts the dispatcher thread.
    void start()
    {
        if (started_) throw std::logic_error("start() called twice");
        started_ = true;
        wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        wire::check(wake_fd_ >= 0, "eventfd");
        for (std::size_t i = 0; i < worker_count_; ++i) workers_.push_back(spawn());
        dispatcher_ = std::thread([this] { dispatch(); });
    }

    // Runs fn(args...) in a worker; the future holds its result or its exception.
    // The optional callbacks run when it completes (Python: callback, error_callback).
    template <class R, class... A>
    std::future<R> apply_async(Function<R(A...)> fn, std::type_identity_t<std::tuple<A...>> args,
                               std::type_identity_t<std::function<void(const R&)>> on_result = {},
                               std::function<void(std::exception_ptr)> on_error = {})
    {
        auto promise = std::make_shared<std::promise<R>>();
        auto future = promise->get_future();
        submit(fn.index, 1, encode(args), [promise, on_result, on_error](
                                               std::string_view out, std::exception_ptr e) {
            if (e) {
                if (on_error) on_error(e);
                promise->set_exception(e);
                return;
            }
            R value = wire::take<R>(out);
            if (on_result) on_result(value);
            promise->set_value(std::move(value));
        });
        return future;
    }

    // Runs fn(args...) in a worker and waits for the result (Python: apply).
    template <class R, class... A>
    R apply(Function<R(A...)> fn, const std::type_identity_t<A>&... args)
    {
        return result_of(apply_async(fn, std::tuple<A...>(args...)));
    }

    // Runs fn over tuples of arguments, unpacked with std::apply, in chunks of
    // chunksize tasks per message; the future holds the results in input order or the
    // first failure (Python: starmap_async).
    template <class R, class... A>
    std::future<std::vector<R>> starmap_async(Function<R(A...)> fn,
                                              const std::vector<std::tuple<A...>>& args,
                                              std::size_t chunksize = 1)
    {
        struct Gather {  // touched only by the dispatcher thread, so no lock is needed
            std::vector<std::optional<R>> slots;
            std::size_t remaining;
            bool failed = false;
            std::promise<std::vector<R>> promise;
        };
        auto g = std::make_shared<Gather>();
        g->slots.resize(args.size());
        g->remaining = args.size();
        auto future = g->promise.get_future();
        if (args.empty()) g->promise.set_value({});
        chunksize = std::max<std::size_t>(chunksize, 1);
        for (std::size_t first = 0; first < args.size(); first += chunksize) {
            std::size_t count = std::min(chunksize, args.size() - first);
            std::string bytes;
            for (std::size_t i = first; i < first + count; ++i) bytes += encode(args[i]);
            submit(fn.index, static_cast<std::uint32_t>(count), std::move(bytes),
                   [g, first, count](std::string_view out, std::exception_ptr e) {
                       if (g->failed) return;
                       if (e) {
                           g->failed = true;
                           g->promise.set_exception(e);
                           return;
                       }
                       for (std::size_t i = first; i < first + count; ++i)
                           g->slots[i] = wire::take<R>(out);
                       g->remaining -= count;
                       if (g->remaining == 0) {
                           std::vector<R> results;
                           for (auto& s : g->slots) results.push_back(std::move(*s));
                           g->promise.set_value(std::move(results));
                       }
                   });
        }
        return future;
    }

    // starmap_async(), then wait: results in input order (Python: starmap).
    template <class R, class... A>
    std::vector<R> starmap(Function<R(A...)> fn, const std::vector<std::tuple<A...>>& args,
                           std::size_t chunksize = 1)
    {
        return result_of(starmap_async(fn, args, chunksize));
    }

    // Runs a one-argument fn over xs; results in input order (Python: map).
    template <class R, class A>
    std::vector<R> map(Function<R(A)> fn, const std::vector<A>& xs, std::size_t chunksize = 1)
    {
        std::vector<std::tuple<A>> args;
        for (const A& x : xs) args.emplace_back(x);
        return starmap(fn, args, chunksize);
    }

    // Submits every task now and yields the results lazily, in input order: the first
    // result is available while later tasks still run (Python: imap).
    template <class R, class A>
    ResultStream<R> imap(Function<R(A)> fn, const std::vector<A>& xs)
    {
        auto futures = std::make_shared<std::deque<std::future<R>>>();
        for (const A& x : xs) futures->push_back(apply_async(fn, std::tuple<A>(x)));
        return ResultStream<R>([futures]() -> std::optional<R> {
            if (futures->empty()) return std::nullopt;
            auto f = std::move(futures->front());
            futures->pop_front();
            return result_of(std::move(f));
        });
    }

    // Like imap(), but yields each result as soon as it is ready, in completion order
    // (Python: imap_unordered).
    template <class R, class A>
    ResultStream<R> imap_unordered(Function<R(A)> fn, const std::vector<A>& xs)
    {
        struct Inbox {
            std::mutex mutex;
            std::condition_variable ready;
            std::deque<std::future<R>> done;  // completed, in completion order
            std::size_t remaining;
        };
        auto inbox = std::make_shared<Inbox>();
        inbox->remaining = xs.size();
        for (const A& x : xs) {
            submit(fn.index, 1, encode(std::tuple<A>(x)),
                   [inbox](std::string_view out, std::exception_ptr e) {
                       std::promise<R> p;
                       if (e) p.set_exception(e);
                       else p.set_value(wire::take<R>(out));
                       std::lock_guard lock(inbox->mutex);
                       inbox->done.push_back(p.get_future());
                       inbox->ready.notify_one();
                   });
        }
        return ResultStream<R>([inbox]() -> std::optional<R> {
            std::unique_lock lock(inbox->mutex);
            if (inbox->remaining == 0) return std::nullopt;
            inbox->ready.wait(lock, [&] { return !inbox->done.empty(); });
            auto f = std::move(inbox->done.front());
            inbox->done.pop_front();
            --inbox->remaining;
            lock.unlock();
            return result_of(std::move(f));
        });
    }

    // No more tasks may be submitted; the tasks already submitted still run
    // (Python: close).
    void close()
    {
        {
            std::lock_guard lock(mutex_);
            closing_ = true;
        }
        wake();
    }

    // Waits until every submitted task has finished and every worker has exited;
    // call close() first (Python: join).
    void join()
    {
        {
            std::lock_guard lock(mutex_);
            if (!closing_) throw std::logic_error("join() before close()");
        }
        if (dispatcher_.joinable()) dispatcher_.join();
        reap_all();
    }

    // Stops now: workers get SIGTERM, unfinished tasks fail with PoolClosed
    // (Python: terminate).
    void terminate()
    {
        {
            std::lock_guard lock(mutex_);
            closing_ = terminating_ = true;
        }
        wake();
        if (dispatcher_.joinable()) dispatcher_.join();
        reap_all();
    }


private:
    using Wire = std::function<std::string(std::string_view&, std::uint32_t)>;
    using Done = std::function<void(std::string_view, std::exception_ptr)>;

    struct Job {
        std::uint64_t id;
        std::uint32_t fn, count;
        std::string args;
        Done done;
    };
    struct Worker {
        pid_t pid = -1;
        int fd = -1;                 // our end of its socketpair
        std::optional<Job> job;      // the task it is running
    };

    template <class Sig>
    struct Definer;
    template <class R, class... A>
    struct Definer<R(A...)> {
        template <class F>
        static Function<R(A...)> add(Pool& pool, F fn)
        {
            if (pool.started_) throw std::logic_error("def() after start(): workers exist");
            // A chunk is `count` argument tuples in a row; the reply is `count` results.
            pool.registry_.push_back([fn](std::string_view& in, std::uint32_t count) {
                std::string out;
                for (std::uint32_t i = 0; i < count; ++i) {
                    // Braced initialisation reads the arguments left to right.
                    std::tuple<std::decay_t<A>...> args{wire::take<std::decay_t<A>>(in)...};
                    wire::put(out, std::apply(fn, args));
                }
                return out;
            });
            return {static_cast<std::uint32_t>(pool.registry_.size() - 1)};
        }
    };

    // Waits for a result. A failure is rethrown as a copy made on this thread while the
    // shared state still holds the original, so the original is never released by the
    // dispatcher thread after we read it. That would be safe, but libstdc++ counts
    // exception references in code ThreadSanitizer cannot see, and it would report a race.
    template <class T>
    static T result_of(std::future<T> future)
    {
        std::shared_future<T> shared = future.share();
        try {
            return shared.get();
        } catch (const RemoteError& e) {
            throw RemoteError(e.what());
        } catch (const WorkerLost& e) {
            throw WorkerLost(e.what());
        } catch (const PoolClosed& e) {
            throw PoolClosed(e.what());
        }
    }

    template <class... A>
    static std::string encode(const std::tuple<A...>& args)
    {
        std::string out;
        std::apply([&](const auto&... a) { (wire::put(out, a), ...); }, args);
        return out;
    }

    void submit(std::uint32_t fn, std::uint32_t count, std::string args, Done done)
    {
        {
            std::lock_guard lock(mutex_);
            if (!started_) throw std::logic_error("submit before start()");
            if (closing_) throw PoolClosed("pool is closed");
            pending_.push_back({next_id_++, fn, count, std::move(args), std::move(done)});
        }
        wake();
    }

    void wake()
    {
        std::uint64_t one = 1;
        if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
    }

    // ---- the worker process -------------------------------------------------------------
    [[noreturn]] void worker_main(int fd)
    {
        while (auto frame = wire::recv_frame(fd)) {  // end of file: the pool said "stop"
            std::string_view in = *frame;
            std::string reply;
            wire::put(reply, wire::take<std::uint64_t>(in));
            auto fn = wire::take<std::uint32_t>(in);
            auto count = wire::take<std::uint32_t>(in);
            try {
                std::string results = registry_.at(fn)(in, count);
                wire::put(reply, std::uint8_t{1});
                reply += results;
            } catch (const std::exception& e) {
                wire::put(reply, std::uint8_t{0});
                reply += e.what();
            }
            wire::send_frame(fd, reply);
        }
        ::_exit(0);  // never return into the parent's copy of main()
    }

    Worker spawn()
    {
        int sv[2];
        wire::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        std::fflush(stdout);  // unflushed output would be printed by the child too
        pid_t pid = ::fork();
        wire::check(pid >= 0, "fork");
        if (pid == 0) {
            // Drop the parent's ends of the other workers' sockets, or those workers would
            // not see end of file when the pool closes them.
            for (auto& w : workers_)
                if (w.fd >= 0) ::close(w.fd);
            ::close(wake_fd_);
            ::close(sv[0]);
            worker_main(sv[1]);
        }
        ::close(sv[1]);
        Worker w;
        w.pid = pid;
        w.fd = sv[0];
        return w;
    }

    static std::string describe(int status)
    {
        if (WIFSIGNALED(status))
            return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                   ::strsignal(WTERMSIG(status)) + ")";
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }

    int reap(Worker& w)
    {
        if (w.fd >= 0) ::close(w.fd);
        w.fd = -1;
        int status = 0;
        while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {}
        return status;
    }

    // A worker died under its task: fail the task (never leave a caller waiting), replace it.
    void replace(Worker& w, const std::string& why)
    {
        std::optional<Job> job = std::move(w.job);
        w.job.reset();
        if (job) job->done({}, std::make_exception_ptr(WorkerLost(why)));
        w = spawn();
    }

    void on_frame(Worker& w)
    {
        auto frame = wire::recv_frame(w.fd);
        if (!frame) {  // end of file: the worker is gone, probably mid-task
            pid_t pid = w.pid;
            int status = reap(w);
            std::string why = "worker " + std::to_string(pid) + " " + describe(status);
            if (w.job) why += " while running task " + std::to_string(w.job->id);
            replace(w, why);
            return;
        }
        std::string_view in = *frame;
        wire::take<std::uint64_t>(in);
        bool ok = wire::take<std::uint8_t>(in) != 0;
        Job job = std::move(*w.job);
        w.job.reset();
        if (ok) job.done(in, nullptr);
        else job.done({}, std::make_exception_ptr(RemoteError(std::string(in))));
    }

    void dispatch()
    {
        try {
            dispatch_loop();
        } catch (...) {  // e.g. fork failed: fail everything rather than hang callers
            fail_all(std::current_exception());
        }
    }

    void dispatch_loop()
    {
        for (;;) {
            bool stop_now = false, idle = true;
            std::vector<Worker*> to_send;
            {
                std::lock_guard lock(mutex_);
                if (terminating_) {
                    stop_now = true;
                } else {
                    for (auto& w : workers_) {
                        if (!w.job && !pending_.empty()) {
                            w.job = std::move(pending_.front());
                            pending_.pop_front();
                            to_send.push_back(&w);
                        }
                    }
                    idle = pending_.empty();
                }
            }
            if (stop_now) {
                fail_all(std::make_exception_ptr(PoolClosed("pool terminated")));
                return;
            }
            for (Worker* w : to_send) send_job(*w);
            bool busy = false;
            for (auto& w : workers_) busy = busy || w.job.has_value();
            {
                std::lock_guard lock(mutex_);
                if (closing_ && idle && !busy && pending_.empty()) return;
            }
            wait_and_handle();
        }
    }

    void send_job(Worker& w)
    {
        std::string frame;
        wire::put(frame, w.job->id);
        wire::put(frame, w.job->fn);
        wire::put(frame, w.job->count);
        frame += w.job->args;
        try {
            wire::send_frame(w.fd, frame);
        } catch (const std::system_error&) {
            // EPIPE: it died while idle. poll() will report end of file and replace it.
        }
    }

    void wait_and_handle()
    {
        std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
        for (auto& w : workers_) fds.push_back({w.fd, POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0 && errno == EINTR) return;
        wire::check(n >= 0, "poll");
        if (fds[0].revents) {
            std::uint64_t count;
            (void)!::read(wake_fd_, &count, sizeof count);
        }
        for (std::size_t i = 0; i < workers_.size(); ++i)
            if (fds[i + 1].revents) on_frame(workers_[i]);
    }

    void fail_all(std::exception_ptr why)
    {
        std::deque<Job> jobs;
        {
            std::lock_guard lock(mutex_);
            closing_ = terminating_ = true;
            jobs.swap(pending_);
        }
        for (auto& w : workers_) {
            if (w.job) jobs.push_back(std::move(*w.job));
            w.job.reset();
            if (w.fd >= 0) ::kill(w.pid, SIGTERM);
        }
        for (auto& job : jobs) job.done({}, why);
    }

    // After the dispatcher has stopped: close every socket, wait for every worker.
    void reap_all()
    {
        for (auto& w : workers_)
            if (w.fd >= 0) reap(w);
        workers_.clear();
        if (wake_fd_ >= 0) ::close(wake_fd_);
        wake_fd_ = -1;
    }

    std::size_t worker_count_;
    std::vector<Wire> registry_;  // filled before start(), read-only afterwards
    std::vector<Worker> workers_; // the dispatcher thread's, once it runs
    std::atomic<bool> started_{false};
    int wake_fd_ = -1;            // eventfd: "look at the queue again"

    mutable std::mutex mutex_;    // guards everything below
    std::deque<Job> pending_;
    std::uint64_t next_id_ = 0;
    bool closing_ = false, terminating_ = false;

    std::thread dispatcher_;      // last: it starts after everything above exists
};


// ================================ demonstration ==========================================
namespace {

using Clock = std::chrono::steady_clock;
const Clock::time_point t0 = Clock::now();

long ms_since_start()
{
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count());
}

// Sleeps for `ms` milliseconds and returns its argument: a task of known length.
std::int64_t nap(std::int64_t ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms;
}

std::int64_t checked_sqrt(std::int64_t x)
{
    if (x < 0) throw std::invalid_argument("checked_sqrt: negative input " + std::to_string(x));
    std::int64_t r = 0;
    while ((r + 1) * (r + 1) <= x) ++r;
    return r;
}

std::string order_of(const std::vector<std::int64_t>& v)
{
    std::string s;
    for (auto x : v) s += (s.empty() ? "" : " ") + std::to_string(x);
    return s;
}

}  // namespace

int main(int argc, char**)
{
    if (argc > 1) {
        std::cerr << "usage: imap_async\n";
        return 2;
    }
    Pool pool(2);
    auto nap_fn = pool.def(nap);
    auto sqrt_fn = pool.def(checked_sqrt);
    pool.start();
    bool ok = true;

    // Two workers, tasks of 20, 500, 20, 20 ms: worker A runs 0, 2, 3 while B runs 1.
    const std::vector<std::int64_t> naps{20, 500, 20, 20};

    // 1. imap: lazy and ordered. The first result is ours after ~20 ms, long before the
    //    500 ms task is done; results 2 and 3 wait for 1, to keep the input order.
    std::vector<std::int64_t> got;
    long first_ms = -1;
    auto ordered = pool.imap(nap_fn, naps);
    while (auto r = ordered.next()) {
        if (first_ms < 0) first_ms = ms_since_start();
        got.push_back(*r);
    }
    long all_ms = ms_since_start();
    std::cout << "imap order:           " << order_of(got) << '\n';
    bool lazy = got == naps && first_ms < 400 && all_ms >= 500;
    std::cout << "imap: first result after " << first_ms << " ms, last after " << all_ms
              << " ms: the first came before the slow task finished: " << (lazy ? "yes" : "NO")
              << '\n';

    // 2. imap_unordered: whatever finishes first comes first; the slow task comes last.
    got.clear();
    auto unordered = pool.imap_unordered(nap_fn, naps);
    while (auto r = unordered.next()) got.push_back(*r);
    std::cout << "imap_unordered order: " << order_of(got) << '\n';
    bool completion_order = got.size() == 4 && got.back() == 500;
    std::cout << "imap_unordered: the 500 ms task came last: "
              << (completion_order ? "yes" : "NO") << '\n';

    // 3. apply_async returns at once with a std::future; the callback runs on the
    //    dispatcher thread when the result arrives.
    std::atomic<std::int64_t> seen_by_callback{-1};
    std::future<std::int64_t> future = pool.apply_async(
        nap_fn, {150}, [&](const std::int64_t& v) { seen_by_callback = v; });
    bool returned_early = future.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
    std::int64_t value = future.get();
    bool async_ok = returned_early && value == 150 && seen_by_callback == 150;
    std::cout << "apply_async returned at once, get() = " << value
              << ", callback saw " << seen_by_callback << ": " << (async_ok ? "yes" : "NO")
              << '\n';

    // 4. Errors: the worker's exception message reaches the caller, through get(),
    //    through the error callback, and through imap at the failing position.
    std::string from_callback;
    std::mutex m;
    auto on_error = [&](std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::lock_guard lock(m);
            from_callback = ex.what();
        }
    };
    // share(): a std::shared_future may be read again and again, like an AsyncResult.
    std::shared_future<std::int64_t> bad = pool.apply_async(sqrt_fn, {-4}, {}, on_error).share();
    std::string from_get;
    try {
        bad.get();
    } catch (const RemoteError& e) {
        from_get = e.what();
    }
    std::cout << "get() raised RemoteError: " << from_get << '\n';
    {
        std::lock_guard lock(m);
        std::cout << "error_callback got:       " << from_callback << '\n';
        ok = ok && from_callback == from_get;
    }
    bool raised = from_get == "checked_sqrt: negative input -4";

    got.clear();
    std::string at_position;
    auto stream = pool.imap(sqrt_fn, std::vector<std::int64_t>{16, 9, -1, 4});
    try {
        while (auto r = stream.next()) got.push_back(*r);
    } catch (const RemoteError& e) {
        at_position = "after " + std::to_string(got.size()) + " results: " + e.what();
    }
    std::cout << "imap raised " << at_position << '\n';
    raised = raised && at_position == "after 2 results: checked_sqrt: negative input -1";

    pool.close();
    pool.join();
    ok = ok && lazy && completion_order && async_ok && raised;
    std::cout << (ok ? "OK" : "FAILED")
              << ": lazy ordered imap, completion-order imap_unordered, futures, errors\n";
    return ok ? 0 : 1;
}
