// process_pool.hpp — a process pool in one header: copy it into your project.
//
// Python's multiprocessing.Pool, rebuilt for C++20 on Linux:
//   map / starmap / imap / imap_unordered / apply / apply_async (std::future),
//   callbacks, exceptions carried back from workers, chunksize, maxtasksperchild,
//   initializer (a throwing one breaks the pool), per-task time-outs, crashed workers
//   detected, reported and replaced (their task retried or failed: never a hang),
//   close / join / terminate (SIGKILL after a grace).
//
// How a task names its function: workers are fork()ed copies of this program, so they
// already hold every function registered with def() BEFORE start(). A task carries the
// function's index and its arguments as bytes; nothing is pickled.
//
// Use: #include "process_pool.hpp", compile with -std=c++20 -pthread. Everything is
// inline, so the header may be included by several files of one program.
#pragma once

#include <sys/eventfd.h>
#include <sys/mman.h>
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
#include <new>
#include <numeric>
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

template <class T>
constexpr bool is_vector = false;
template <class T>
constexpr bool is_vector<std::vector<T>> = true;

// Values travel as raw bytes (trivially copyable types) or as <u32 count><bytes>
// (std::string, std::vector of trivially copyable elements).
template <class T>
void put(std::string& out, const T& value)
{
    if constexpr (std::is_same_v<T, std::string> || is_vector<T>) {
        static_assert(std::is_trivially_copyable_v<typename T::value_type>,
                      "a vector's elements must be plain values");
        if (value.size() > UINT32_MAX) throw std::length_error("value too long to send");
        put(out, static_cast<std::uint32_t>(value.size()));
        out.append(reinterpret_cast<const char*>(value.data()),
                   value.size() * sizeof(typename T::value_type));
    } else {
        static_assert(std::is_trivially_copyable_v<T>, "send plain values, strings or vectors");
        out.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
}

template <class T>
T take(std::string_view& in)
{
    if constexpr (std::is_same_v<T, std::string> || is_vector<T>) {
        std::size_t bytes = take<std::uint32_t>(in) * sizeof(typename T::value_type);
        if (in.size() < bytes) throw std::runtime_error("truncated message");
        T value(bytes / sizeof(typename T::value_type), typename T::value_type{});
        if (bytes > 0) std::memcpy(value.data(), in.data(), bytes);
        in.remove_prefix(bytes);
        return value;
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

// ANCHOR: framing
// A frame is <u32 length><payload>: a stream socket has no message boundaries.
inline void append_frame(std::string& out, std::string_view payload)
{
    put(out, static_cast<std::uint32_t>(payload.size()));
    out += payload;
}

// Bytes read from a socket, cut into whole frames. One read() may bring many frames
// (or part of one): reading in bulk is what lets a busy pool make one system call for
// many tasks instead of two per task.
class FrameBuffer {
public:
    // Appends bytes (from a ReplyLog). Like fill(), it ends the frames handed out before.
    void add(std::string_view bytes)
    {
        drop_used();
        data_ += bytes;
    }

    // One read() of whatever the socket holds; false once the peer has gone.
    bool fill(int fd)
    {
        drop_used();
        std::size_t old = data_.size();
        data_.resize(old + 65536);
        ssize_t k;
        do k = ::read(fd, data_.data() + old, 65536);
        while (k < 0 && errno == EINTR);
        if (k < 0 && errno == ECONNRESET) k = 0;  // it closed with our data unread: gone too
        check(k >= 0, "read");
        data_.resize(old + static_cast<std::size_t>(k));
        return k > 0;
    }

    // The next whole frame's payload (valid until the next fill or add), or nullopt.
    std::optional<std::string_view> next()
    {
        std::string_view rest(data_);
        rest.remove_prefix(used_);
        std::uint32_t n = 0;
        if (rest.size() < sizeof n) return std::nullopt;
        std::memcpy(&n, rest.data(), sizeof n);
        if (rest.size() - sizeof n < n) return std::nullopt;
        used_ += sizeof n + n;
        return rest.substr(sizeof n, n);
    }

private:
    void drop_used()  // the frames already handed out
    {
        data_.erase(0, used_);
        used_ = 0;
    }

    std::string data_;
    std::size_t used_ = 0;  // bytes of data_ already returned by next()
};
// ANCHOR_END: framing

// ANCHOR: reply_log
// A worker's results on their way to the dispatcher: whole reply frames in a ring of
// shared memory (one writer, one reader, positions that only grow). Appending costs no
// system call, so a worker running many tiny tasks does not pay one per result, and
// nothing finished is lost if the worker dies: the dispatcher still reads it here.
struct ReplyLog {
    static constexpr std::size_t kSize = 64 * 1024;
    std::atomic<std::uint64_t> written{0};       // by the worker
    std::atomic<std::uint64_t> taken{0};         // by the dispatcher
    std::atomic<bool> reader_asleep{false};      // the dispatcher is about to poll()
    char bytes[kSize];
    // In memory two processes share, an atomic must be lock-free: a library lock is per process.
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<bool>::is_always_lock_free);

    // Worker: appends a whole frame; false if it does not fit now.
    bool put(std::string_view frame)
    {
        std::uint64_t w = written.load(std::memory_order_relaxed);
        if (kSize - (w - taken.load(std::memory_order_acquire)) < frame.size()) return false;
        std::size_t at = w % kSize, first = std::min(frame.size(), kSize - at);
        std::memcpy(bytes + at, frame.data(), first);                 // up to the end,
        std::memcpy(bytes, frame.data() + first, frame.size() - first);  // then wrap
        written.store(w + frame.size());  // seq_cst: see ProcessPool::wait_and_handle()
        return true;
    }

    // Dispatcher: moves everything written so far into `out`.
    void take(FrameBuffer& out)
    {
        std::uint64_t w = written.load(), t = taken.load(std::memory_order_relaxed);
        for (std::uint64_t at = t; at < w;) {
            std::size_t i = at % kSize, n = std::min<std::uint64_t>(w - at, kSize - i);
            out.add({bytes + i, n});
            at += n;
        }
        taken.store(w, std::memory_order_release);  // the worker may reuse the space
    }
    bool empty() const { return written.load() == taken.load(std::memory_order_relaxed); }
};

// Owns a ReplyLog mapped MAP_SHARED before fork(), so parent and worker see one copy.
struct SharedLog {
    ReplyLog* log = nullptr;
    SharedLog()
    {
        void* p = ::mmap(nullptr, sizeof(ReplyLog), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        check(p != MAP_FAILED, "mmap");
        log = new (p) ReplyLog;  // the atomics start at zero
    }
    SharedLog(SharedLog&& other) noexcept : log(std::exchange(other.log, nullptr)) {}
    SharedLog& operator=(SharedLog&& other) noexcept
    {
        std::swap(log, other.log);
        return *this;
    }
    ~SharedLog()
    {
        if (log) ::munmap(log, sizeof(ReplyLog));
    }
    ReplyLog* operator->() const { return log; }
};
// ANCHOR_END: reply_log

// The descriptors that pools hold in this process: their ends of the workers' sockets
// and their eventfds. A new worker closes them all, its own pool's and other pools':
// a copy left open in a worker keeps some other worker from seeing end of file, and a
// stray descriptor number is closed by nobody else. The lock is held across fork(), so
// no pool opens or closes one half-way through another pool's fork.
struct PoolFds {
    static inline std::mutex mutex;
    static inline std::set<int> fds;

    static void close(int fd)
    {
        std::lock_guard lock(mutex);
        fds.erase(fd);  // before close(): a fork must never see a number that is reused
        ::close(fd);
    }
};

// The exception types that keep their type across the process boundary, most derived
// first: a worker sends the position of the first one its exception is, the caller
// rebuilds that type. 0 means none of them (RemoteError).
using Carried = std::tuple<std::invalid_argument, std::domain_error, std::length_error,
                           std::out_of_range, std::logic_error, std::range_error,
                           std::overflow_error, std::underflow_error, std::system_error,
                           std::runtime_error, std::bad_alloc>;

template <std::size_t I = 0>
std::uint8_t kind_of(const std::exception& e)
{
    if constexpr (I == std::tuple_size_v<Carried>) {
        return 0;
    } else {
        if (dynamic_cast<const std::tuple_element_t<I, Carried>*>(&e)) return I + 1;
        return kind_of<I + 1>(e);
    }
}

}  // namespace wire

/// Where a failed task ran: every exception that comes back from a worker carries this.
/// Find it with origin_of(e) (Python shows it as the remote traceback).
struct TaskOrigin {
    pid_t worker_pid = 0;     ///< the worker that ran the task
    std::size_t index = 0;    ///< the task's position in its map's input (0 for apply)
};

/// The task threw something that is not one of the standard exception types below
/// (`throw 42`, std::bad_cast, ...); what() is its message when it had one.
struct RemoteError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// An exception thrown by a task, rethrown in the caller as the same standard type:
/// std::invalid_argument arrives as std::invalid_argument, with its message (Python
/// re-raises the worker's exception type too). A type derived from a standard one arrives
/// as the nearest standard base (a class of yours derived from std::runtime_error is
/// caught by `catch (const std::runtime_error&)`).
template <class E>
struct FromWorker : E, TaskOrigin {
    FromWorker(const E& e, TaskOrigin origin) : E(e), TaskOrigin(origin) {}
};

/// The origin of an exception that came back from a worker, or nullptr for any other.
inline const TaskOrigin* origin_of(const std::exception& e)
{
    return dynamic_cast<const TaskOrigin*>(&e);
}

/// ResultStream::next() or map() with a time-out: the result was not there in time. The
/// task still runs; a later next() may return it (Python: multiprocessing.TimeoutError).
struct ResultTimeout : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// The worker running the task died (crash, signal, exit) and no retry was left.
struct WorkerLost : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// The task ran longer than PoolOptions::task_timeout; its worker was killed and replaced.
struct TaskTimeout : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// The pool was terminated before the task finished, or a task was submitted after %close().
struct PoolClosed : std::runtime_error {
    using std::runtime_error::runtime_error;
};
/// The pool cannot run tasks any more: a worker's initializer threw (what() carries its
/// message), or the pool could not replace a worker. Every task that had not finished
/// fails with it, and so does every later submission (Python: BrokenProcessPool).
struct BrokenPool : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// ANCHOR: options
/// Settings of a ProcessPool (Python: the arguments of `Pool(...)`).
struct PoolOptions {
    /// Number of worker processes (Python: `processes`).
    std::size_t workers = 2;
    /// Replace a worker after it has run this many tasks; 0 means never
    /// (Python: `maxtasksperchild`).
    std::size_t max_tasks_per_child = 0;
    /// Runs once in every new worker before its first task (Python: `initializer`).
    std::function<void()> initializer;
    /// Longest time one task may run; its worker is then killed with SIGKILL and the task
    /// fails with TaskTimeout. Zero means no limit.
    std::chrono::milliseconds task_timeout{0};
    /// How many times a task is run again after its worker died under it; then it fails
    /// with WorkerLost.
    int max_retries = 0;
    /// Most tasks (chunks) sent to one worker ahead of its results. Queued tasks hide the
    /// round trip and share system calls: one send() carries many, one read() brings many
    /// results back. The pool queues only about a millisecond of work per worker (it
    /// measures how long tasks take), so a long task never holds up many others; 1 sends
    /// a task to idle workers only.
    std::size_t max_queued_per_worker = 64;
    /// Called (on the pool's dispatcher thread) whenever a worker is lost or killed,
    /// with a sentence saying which worker and why.
    std::function<void(const std::string&)> on_worker_lost;
};
// ANCHOR_END: options

/// A function registered with ProcessPool::def(): what a task sends instead of a closure.
template <class Sig>
struct Function;
template <class R, class... A>
struct Function<R(A...)> {
    std::uint32_t index;  ///< position in the pool's registry
};

/// A sequence of results produced by ProcessPool::imap() or imap_unordered().
template <class T>
class ResultStream {
public:
    /// The next result, blocking until it is there; std::nullopt after the last one.
    /// Rethrows the task's exception (std::invalid_argument, RemoteError, WorkerLost, ...)
    /// at its position.
    std::optional<T> next() { return next_(std::chrono::milliseconds(0)); }
    /// The same, waiting at most `timeout`: then ResultTimeout, and a later next() may
    /// still return that result (Python: IMapIterator.next(timeout)).
    std::optional<T> next(std::chrono::milliseconds timeout)
    {
        if (timeout.count() <= 0) throw std::invalid_argument("next(): the timeout must be positive");
        return next_(timeout);
    }
    using Next = std::function<std::optional<T>(std::chrono::milliseconds)>;
    explicit ResultStream(Next next) : next_(std::move(next)) {}

private:
    Next next_;
};

/// A pool of forked worker processes: Python's multiprocessing.Pool for C++20 on Linux.
///
/// Register every function with %def(), then %start(). Submit work with %apply(),
/// %apply_async(), %map(), %starmap(), %starmap_async(), %imap() or %imap_unordered(); finish
/// with %close() and %join(), or %terminate(). The destructor terminates a pool that was
/// not joined, like leaving Python's `with Pool() as pool:` block.
///
/// Arguments and results must be trivially copyable, std::string, or std::vector of
/// trivially copyable elements. After %start(), tasks
/// may be submitted from any thread. Callbacks run on the pool's dispatcher thread: keep
/// them short and never wait on the pool from inside one.
class ProcessPool {
public:
    /// Callbacks (Python: callback, error_callback): all of a map's results, one result,
    /// a failure.
    template <class R>
    using ListCallback = std::type_identity_t<std::function<void(const std::vector<R>&)>>;
    template <class R>
    using ItemCallback = std::type_identity_t<std::function<void(const R&)>>;
    using ErrorCallback = std::function<void(std::exception_ptr)>;

    /// Creates a pool; no process is started before %start(). Throws
    /// std::invalid_argument for zero workers or max_queued_per_worker, or negative
    /// max_retries (Python: ValueError).
    explicit ProcessPool(PoolOptions options = {}) : options_(std::move(options))
    {
        if (options_.workers == 0)
            throw std::invalid_argument("PoolOptions::workers must be at least 1, not 0");
        if (options_.max_queued_per_worker == 0)
            throw std::invalid_argument("PoolOptions::max_queued_per_worker must be at least 1, not 0");
        if (options_.max_retries < 0)
            throw std::invalid_argument("PoolOptions::max_retries must not be negative");
    }
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;
    /// Terminates the pool unless %join() already ended it.
    ~ProcessPool()
    {
        if (dispatcher_.joinable()) terminate();
    }

    /// Registers a plain function; call before %start().
    template <class R, class... A>
    Function<R(A...)> def(R (*fn)(A...))
    {
        return def<R(A...)>(fn);
    }

    /// Registers any callable, even a capturing lambda, under signature Sig; call before
    /// %start(). Workers are forks, so each gets its own copy of the callable.
    template <class Sig, class F>
    Function<Sig> def(F fn)
    {
        return Definer<Sig>::add(*this, std::move(fn));
    }

    // ANCHOR: start
    /// Forks the workers and starts the dispatcher thread. If that fails, the workers
    /// already started are stopped and reaped before the exception leaves.
    void start()
    {
        if (started_) throw std::logic_error("start() called twice");
        struct sigaction child{};
        ::sigaction(SIGCHLD, nullptr, &child);
        if (child.sa_handler == SIG_IGN || (child.sa_flags & SA_NOCLDWAIT))
            throw std::logic_error("start(): SIGCHLD is ignored, so waitpid() could not say "
                                   "how a worker ended");
        started_ = true;
        try {
            {
                std::lock_guard lock(wire::PoolFds::mutex);
                wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                wire::check(wake_fd_ >= 0, "eventfd");
                wire::PoolFds::fds.insert(wake_fd_);
            }
            for (std::size_t i = 0; i < options_.workers; ++i) workers_.push_back(spawn());
            dispatcher_ = std::thread([this] { dispatch(); });
        } catch (...) {
            {
                std::lock_guard lock(mutex_);
                closing_ = terminating_ = true;  // nothing may be submitted
            }
            reap_all(std::chrono::seconds(0));  // they ran no task: SIGKILL at once
            throw;
        }
    }
    // ANCHOR_END: start

    // ANCHOR: futures
    /// Runs fn(args...) in a worker; the future holds its result or its exception.
    /// The optional callbacks run when it completes (Python: callback, error_callback).
    template <class R, class... A>
    std::future<R> apply_async(Function<R(A...)> fn, std::type_identity_t<std::tuple<A...>> args,
                               std::type_identity_t<std::function<void(const R&)>> on_result = {},
                               std::function<void(std::exception_ptr)> on_error = {})
    {
        auto promise = std::make_shared<std::promise<R>>();
        auto future = promise->get_future();
        std::vector<Job> one;
        one.push_back(job(fn.index, 1, encode(args), fulfil(promise, on_result, on_error)));
        submit(std::move(one));
        return future;
    }
    // ANCHOR_END: futures

    /// Runs fn(args...) in a worker and waits for the result (Python: apply).
    template <class R, class... A>
    R apply(Function<R(A...)> fn, const std::type_identity_t<A>&... args)
    {
        return result_of(apply_async(fn, std::tuple<A...>(args...)));
    }

    // ANCHOR: ordered_results
    /// Runs fn over tuples of arguments, unpacked with std::apply, in chunks of
    /// chunksize tasks per message; the future holds the results in input order or the
    /// first failure. on_result gets all the results, on_error the first failure, on the
    /// dispatcher thread (Python: starmap_async with callback, error_callback).
    template <class R, class... A>
    std::future<std::vector<R>> starmap_async(Function<R(A...)> fn,
                                              const std::vector<std::tuple<A...>>& args,
                                              std::size_t chunksize = 1,
                                              ListCallback<R> on_result = {},
                                              ErrorCallback on_error = {})
    {
        struct Gather {  // touched only by the dispatcher thread, so no lock is needed
            std::vector<std::optional<R>> slots;
            std::size_t remaining;
            bool failed = false;
            std::promise<std::vector<R>> promise;
        };
        check_chunksize(chunksize);
        auto g = std::make_shared<Gather>();
        g->slots.resize(args.size());
        g->remaining = args.size();
        auto future = g->promise.get_future();
        if (args.empty()) {
            if (on_result) on_result({});
            g->promise.set_value({});
        }
        submit(chunks(fn.index, args, chunksize, [&](std::size_t first, std::size_t count) -> Done {
            return [g, first, count, on_result, on_error](std::string_view out, std::exception_ptr e) {
                if (g->failed) return;
                if (e) {
                    g->failed = true;
                    if (on_error) on_error(e);
                    g->promise.set_exception(std::move(e));  // see result_of()
                    return;
                }
                for (std::size_t i = first; i < first + count; ++i) g->slots[i] = wire::take<R>(out);
                g->remaining -= count;
                if (g->remaining > 0) return;
                std::vector<R> results;
                for (auto& s : g->slots) results.push_back(std::move(*s));
                if (on_result) on_result(results);
                g->promise.set_value(std::move(results));
            };
        }));
        return future;
    }
    // ANCHOR_END: ordered_results

    /// %starmap_async(), then wait: results in input order (Python: starmap). With a
    /// timeout, throws %ResultTimeout if they are not all there in time.
    template <class R, class... A>
    std::vector<R> starmap(Function<R(A...)> fn, const std::vector<std::tuple<A...>>& args,
                           std::size_t chunksize = 1, std::chrono::milliseconds timeout = {})
    {
        return result_of(starmap_async(fn, args, chunksize), timeout);
    }

    /// Runs a one-argument fn over xs without waiting; the future holds the results in
    /// input order (Python: map_async with callback, error_callback).
    template <class R, class A>
    std::future<std::vector<R>> map_async(Function<R(A)> fn, const std::vector<A>& xs,
                                          std::size_t chunksize = 1, ListCallback<R> on_result = {},
                                          ErrorCallback on_error = {})
    {
        return starmap_async(fn, as_tuples(xs), chunksize, std::move(on_result), std::move(on_error));
    }

    /// Runs a one-argument fn over xs; results in input order (Python: map, or
    /// map_async(...).get(timeout) with a timeout: then %ResultTimeout if late).
    template <class R, class A>
    std::vector<R> map(Function<R(A)> fn, const std::vector<A>& xs, std::size_t chunksize = 1,
                       std::chrono::milliseconds timeout = {})
    {
        return result_of(map_async(fn, xs, chunksize), timeout);
    }

    /// Submits every task now and yields the results lazily, in input order: the first
    /// result is available while later tasks still run. on_result runs for each result,
    /// on_error for each failed chunk (on the dispatcher thread). With chunksize > 1 a
    /// failure takes the place of its whole chunk (Python: imap).
    template <class R, class A>
    ResultStream<R> imap(Function<R(A)> fn, const std::vector<A>& xs, std::size_t chunksize = 1,
                         ItemCallback<R> on_result = {}, ErrorCallback on_error = {})
    {
        return stream(fn, xs, chunksize, true, std::move(on_result), std::move(on_error));
    }

    /// Like %imap(), but yields each result as soon as its chunk is done, in completion
    /// order (Python: imap_unordered).
    template <class R, class A>
    ResultStream<R> imap_unordered(Function<R(A)> fn, const std::vector<A>& xs,
                                   std::size_t chunksize = 1, ItemCallback<R> on_result = {},
                                   ErrorCallback on_error = {})
    {
        return stream(fn, xs, chunksize, false, std::move(on_result), std::move(on_error));
    }

    /// True once the pool is broken (see %BrokenPool); every submission then throws.
    bool broken() const
    {
        std::lock_guard lock(mutex_);
        return !broken_.empty();
    }

    /// No more tasks may be submitted; the tasks already submitted still run
    /// (Python: close).
    void close()
    {
        {
            std::lock_guard lock(mutex_);
            closing_ = true;
        }
        wake();
    }

    /// Waits until every submitted task has finished and every worker has exited;
    /// call %close() first (Python: join).
    void join()
    {
        {
            std::lock_guard lock(mutex_);
            if (!closing_) throw std::logic_error("join() before close()");
        }
        if (dispatcher_.joinable()) dispatcher_.join();
        reap_all(kStopGrace);
    }

    /// Stops now: workers get SIGTERM, and SIGKILL if they have not exited after a
    /// grace period; unfinished tasks fail with %PoolClosed (Python: terminate).
    void terminate()
    {
        {
            std::lock_guard lock(mutex_);
            closing_ = terminating_ = true;
        }
        wake();
        if (dispatcher_.joinable()) dispatcher_.join();
        reap_all(kStopGrace);
    }

    /// Worker processes started so far, replacements included.
    std::size_t workers_started() const { return started_count_; }
    /// %Process ids of the current workers (for demonstrations and tests).
    std::vector<pid_t> worker_pids() const
    {
        std::lock_guard lock(mutex_);
        return current_pids_;
    }

private:
    // Runs `count` tasks of a chunk; sets `item` to the one running (for TaskOrigin).
    using Wire = std::function<std::string(std::string_view&, std::uint32_t count, std::uint32_t& item)>;
    using Done = std::function<void(std::string_view, std::exception_ptr)>;
    using Clock = std::chrono::steady_clock;


    // About this much work is queued at a worker (see max_queued_per_worker). Enough to
    // cover a round trip through the dispatcher; little enough that a task stuck behind
    // a long one waits at most about as long as that.
    static constexpr double kQueuedWorkUs = 1000;
    // Request bytes a worker may have unread. Far below the socket's buffer, so send()
    // to a busy worker never blocks: a dispatcher blocked in send() could not read the
    // replies that the worker is blocked sending, and both would wait forever.
    static constexpr std::size_t kUnreadBytes = 64 * 1024;
    // How long a worker told to stop (or sent SIGTERM) may take to exit before SIGKILL.
    static constexpr std::chrono::seconds kStopGrace{2};
    // The id of a reply that says "my initializer threw"; no task has this id.
    static constexpr std::uint64_t kInitializerFailed = UINT64_MAX;

    struct Job {
        std::uint64_t id;
        std::uint32_t fn, count;
        std::string args;
        Done done;
        std::size_t first = 0;  // its first task's position in the input of its map
        int attempts = 0;
        std::size_t frame_size() const { return 20 + args.size(); }  // u32 u64 u32 u32 args
    };
    struct Worker {
        pid_t pid = -1;
        int fd = -1;                   // our end of its socketpair
        std::deque<Job> jobs;          // sent, in order; the first one is running
        std::size_t unread_bytes = 0;  // the requests of `jobs`, for kUnreadBytes
        wire::SharedLog log;           // its results (ReplyLog)
        wire::FrameBuffer from_log;    // results taken from the log, not handled yet
        wire::FrameBuffer from_socket; // results and wake-ups read from the socket, the
                                       // same; never mixed: a frame may arrive in pieces
        Clock::time_point front_since; // when jobs.front() started (as far as we know)
        double task_us = 0;            // running average of one job's time
        std::size_t tasks_done = 0;
    };

    template <class Sig>
    struct Definer;
    template <class R, class... A>
    struct Definer<R(A...)> {
        template <class F>
        static Function<R(A...)> add(ProcessPool& pool, F fn)
        {
            if (pool.started_) throw std::logic_error("def() after start(): workers exist");
            // A chunk is `count` argument tuples in a row; the reply is `count` results.
            pool.registry_.push_back([fn](std::string_view& in, std::uint32_t count, std::uint32_t& i) {
                std::string out;
                for (i = 0; i < count; ++i) {
                    // Braced initialisation reads the arguments left to right.
                    std::tuple<std::decay_t<A>...> args{wire::take<std::decay_t<A>>(in)...};
                    wire::put(out, std::apply(fn, args));
                }
                return out;
            });
            return {static_cast<std::uint32_t>(pool.registry_.size() - 1)};
        }
    };

    static void check_chunksize(std::size_t chunksize)
    {
        if (chunksize == 0) throw std::invalid_argument("chunksize must be at least 1, not 0");
    }

    template <class A>
    static std::vector<std::tuple<A>> as_tuples(const std::vector<A>& xs)
    {
        std::vector<std::tuple<A>> args;
        for (const A& x : xs) args.emplace_back(x);
        return args;
    }

    // The jobs of a map: chunksize argument tuples each; done_for(first, count) makes
    // each one's completion.
    template <class Tuple, class F>
    static std::vector<Job> chunks(std::uint32_t fn, const std::vector<Tuple>& args,
                                   std::size_t chunksize, F done_for)
    {
        std::vector<Job> jobs;
        for (std::size_t first = 0; first < args.size(); first += chunksize) {
            std::size_t count = std::min(chunksize, args.size() - first);
            std::string bytes;
            for (std::size_t i = first; i < first + count; ++i) bytes += encode(args[i]);
            jobs.push_back(job(fn, static_cast<std::uint32_t>(count), std::move(bytes),
                               done_for(first, count), first));
        }
        return jobs;
    }

    // ANCHOR: imap
    // What imap() and imap_unordered() share with the dispatcher: each chunk's results
    // or failure, as they arrive.
    template <class R>
    struct Stream {
        std::mutex mutex;
        std::condition_variable ready;
        bool ordered;
        std::vector<std::optional<std::vector<R>>> results;  // per chunk
        std::vector<std::exception_ptr> errors;              // per chunk
        std::deque<std::size_t> arrived;   // chunk numbers, in completion order
        std::size_t handed = 0;            // chunks handed out (ordered: the next one's number)
        std::vector<R> current;            // the chunk being handed out
        std::size_t current_at = 0;

        std::optional<R> next(std::chrono::milliseconds timeout)
        {
            std::unique_lock lock(mutex);
            for (;;) {
                if (current_at < current.size()) return std::move(current[current_at++]);
                if (handed == results.size()) return std::nullopt;
                auto there = [&] { return ordered ? results[handed] || errors[handed] : !arrived.empty(); };
                if (timeout.count() <= 0) ready.wait(lock, there);
                else if (!ready.wait_for(lock, timeout, there))
                    throw ResultTimeout("no result within " + std::to_string(timeout.count()) + " ms");
                std::size_t c = ordered ? handed : arrived.front();
                if (!ordered) arrived.pop_front();
                ++handed;
                if (errors[c]) {
                    std::exception_ptr e = errors[c];  // the original stays here: see result_of()
                    lock.unlock();
                    try {
                        std::rethrow_exception(e);
                    } catch (...) {
                        throw_copy();
                    }
                }
                current = std::move(*results[c]);
                current_at = 0;
            }
        }
    };
    // ANCHOR_END: imap

    template <class R, class A>
    ResultStream<R> stream(Function<R(A)> fn, const std::vector<A>& xs, std::size_t chunksize,
                           bool ordered, ItemCallback<R> on_result, ErrorCallback on_error)
    {
        check_chunksize(chunksize);
        auto s = std::make_shared<Stream<R>>();
        s->ordered = ordered;
        std::size_t n = (xs.size() + chunksize - 1) / chunksize;
        s->results.resize(n);
        s->errors.resize(n);
        submit(chunks(fn.index, as_tuples(xs), chunksize, [&](std::size_t first, std::size_t count) -> Done {
            std::size_t c = first / chunksize;
            return [s, c, count, on_result, on_error](std::string_view out, std::exception_ptr e) {
                std::vector<R> values;
                if (!e) {
                    for (std::size_t i = 0; i < count; ++i) values.push_back(wire::take<R>(out));
                    if (on_result) for (const R& v : values) on_result(v);
                } else if (on_error) {
                    on_error(e);
                }
                std::lock_guard lock(s->mutex);
                if (e) s->errors[c] = std::move(e);
                else s->results[c] = std::move(values);
                s->arrived.push_back(c);
                s->ready.notify_all();
            };
        }));
        return ResultStream<R>([s](std::chrono::milliseconds timeout) { return s->next(timeout); });
    }

    // Waits for a result. A failure is rethrown as a copy made on this thread while the
    // shared state still holds the original, and the dispatcher hands its reference to the
    // promise (std::move) instead of dropping it later, so the original is never released
    // by the dispatcher thread after we read it. That would be safe, but libstdc++ counts
    // exception references in code ThreadSanitizer cannot see, and it would report a race.
    template <class T>
    static T result_of(std::future<T> future, std::chrono::milliseconds timeout = {})
    {
        std::shared_future<T> shared = future.share();
        if (timeout.count() > 0 && shared.wait_for(timeout) != std::future_status::ready)
            throw ResultTimeout("no result within " + std::to_string(timeout.count()) + " ms");
        try {
            return shared.get();
        } catch (...) {
            throw_copy();
        }
    }

    // Inside a catch block: throws a copy of the exception being handled (see result_of()).
    [[noreturn]] static void throw_copy()
    {
        try {
            throw;
        } catch (const TaskOrigin&) {  // from a worker: a FromWorker<E>, E in Carried or RemoteError
            throw_remote_copy(std::make_index_sequence<std::tuple_size_v<wire::Carried>>());
        } catch (const WorkerLost& e) {
            throw WorkerLost(e.what());
        } catch (const TaskTimeout& e) {
            throw TaskTimeout(e.what());
        } catch (const PoolClosed& e) {
            throw PoolClosed(e.what());
        } catch (const BrokenPool& e) {
            throw BrokenPool(e.what());
        } catch (...) {
            throw;  // not one of the pool's: it was thrown on this thread anyway
        }
    }

    template <std::size_t... I>
    [[noreturn]] static void throw_remote_copy(std::index_sequence<I...>)
    {
        (try_copy<std::tuple_element_t<I, wire::Carried>>(), ...);
        try_copy<RemoteError>();
        throw;
    }

    template <class E>
    static void try_copy()  // throws a copy if the exception being handled is a FromWorker<E>
    {
        try {
            throw;
        } catch (const FromWorker<E>& e) {
            throw FromWorker<E>(e);
        } catch (...) {
        }
    }

    // E(what) in an exception_ptr. The temporary E shares its message with the copy in the
    // exception_ptr and is destroyed when this returns, before any caller can see the
    // copy (see result_of()).
    template <class E>
    static std::exception_ptr error(const std::string& what)
    {
        return std::make_exception_ptr(E(what));
    }

    template <class... A>
    static std::string encode(const std::tuple<A...>& args)
    {
        std::string out;
        std::apply([&](const auto&... a) { (wire::put(out, a), ...); }, args);
        return out;
    }

    static Job job(std::uint32_t fn, std::uint32_t count, std::string args, Done done,
                   std::size_t first = 0)
    {
        return Job{0, fn, count, std::move(args), std::move(done), first};  // submit() sets the id
    }

    // A worker's failure() bytes as the exception to throw in the caller: the same
    // standard type, or RemoteError, carrying the worker's pid and the task's position.
    static std::exception_ptr remote_error(std::string_view in, pid_t pid, std::size_t first)
    {
        auto kind = wire::take<std::uint8_t>(in);
        auto item = wire::take<std::uint32_t>(in);
        auto code = wire::take<std::int32_t>(in);
        auto category = wire::take<std::uint8_t>(in);
        std::string what(in);
        TaskOrigin origin{pid, first + item};
        auto make = [&]<std::size_t... I>(std::index_sequence<I...>) {
            std::exception_ptr e = std::make_exception_ptr(FromWorker<RemoteError>(RemoteError(what), origin));
            ((kind == I + 1 ? (e = make_as<std::tuple_element_t<I, wire::Carried>>(what, code, category, origin), 0) : 0), ...);
            return e;
        };
        return make(std::make_index_sequence<std::tuple_size_v<wire::Carried>>());
    }

    template <class E>
    static std::exception_ptr make_as(const std::string& what, int code, bool system, TaskOrigin origin)
    {
        if constexpr (std::is_same_v<E, std::bad_alloc>) {
            return std::make_exception_ptr(FromWorker<E>(E(), origin));
        } else if constexpr (std::is_same_v<E, std::system_error>) {
            std::error_code ec(code, system ? std::system_category() : std::generic_category());
            // what() was "<what>: <message>"; the constructor adds ": <message>" again.
            std::string suffix = ": " + ec.message(), head = what;
            if (head.ends_with(suffix)) head.resize(head.size() - suffix.size());
            return std::make_exception_ptr(FromWorker<E>(E(ec, head), origin));
        } else {
            return std::make_exception_ptr(FromWorker<E>(E(what), origin));
        }
    }

    // The completion of a single task: fulfil its promise, run its callbacks.
    template <class R>
    static Done fulfil(std::shared_ptr<std::promise<R>> promise,
                       std::function<void(const R&)> on_result = {},
                       std::function<void(std::exception_ptr)> on_error = {})
    {
        return [promise, on_result, on_error](std::string_view out, std::exception_ptr e) {
            if (e) {
                if (on_error) on_error(e);
                promise->set_exception(std::move(e));  // see result_of()
                return;
            }
            R value = wire::take<R>(out);
            if (on_result) on_result(value);
            promise->set_value(std::move(value));
        };
    }

    // Queues jobs for the dispatcher: one lock and one wake-up for all of them.
    void submit(std::vector<Job> jobs)
    {
        {
            std::lock_guard lock(mutex_);
            if (!started_) throw std::logic_error("submit before start()");
            if (!broken_.empty()) throw BrokenPool(broken_);
            if (closing_) throw PoolClosed("pool is closed");
            for (auto& j : jobs) {
                j.id = next_id_++;
                pending_.push_back(std::move(j));
            }
        }
        wake();
    }

    void wake()
    {
        std::uint64_t one = 1;
        if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
    }

    // ANCHOR: worker_loop
    // ---- the worker process -------------------------------------------------------------
    // Runs the requests in order, reading as many as have arrived with one read(). Each
    // result goes into the shared ReplyLog; the socket carries a wake-up (an empty frame)
    // only if the dispatcher went to sleep, or a result too big for the log. An empty
    // request means "stop".
    [[noreturn]] void worker_main(int fd, wire::ReplyLog& log)
    {
        try {
            if (auto failure = run_initializer()) {  // tell the pool why, then give up
                std::string reply;
                wire::append_frame(reply, *failure);
                wire::write_all(fd, reply.data(), reply.size());
                ::_exit(3);
            }
            wire::FrameBuffer requests;
            for (;;) {
                while (auto request = requests.next()) {
                    if (request->empty()) ::_exit(0);  // the pool said "stop"
                    std::string reply;
                    wire::append_frame(reply, run_request(*request));
                    if (!log.put(reply)) {
                        wire::write_all(fd, reply.data(), reply.size());  // no room: the socket
                    } else if (log.reader_asleep.exchange(false)) {
                        const char wake_up[4] = {};  // a frame of length 0
                        wire::write_all(fd, wake_up, sizeof wake_up);
                    }
                }
                if (!requests.fill(fd)) break;  // end of file: the pool is gone
            }
        } catch (...) {  // the pool went away mid-send (EPIPE): nobody is left to tell
            ::_exit(1);
        }
        ::_exit(0);  // never return into the parent's copy of main()
    }
    // ANCHOR_END: worker_loop

    // The initializer's failure as a reply (<u64 kInitializerFailed><u8 0><message>),
    // or nullopt if it succeeded.
    std::optional<std::string> run_initializer()
    {
        std::string reply;
        wire::put(reply, kInitializerFailed);
        wire::put(reply, std::uint8_t{0});
        try {
            if (options_.initializer) options_.initializer();
            return std::nullopt;
        } catch (const std::exception& e) {
            return reply + e.what();
        } catch (...) {
            return reply + "an exception not derived from std::exception";
        }
    }

    // Request: <u64 id><u32 fn><u32 count><args>.
    // Reply:   <u64 id><u8 1><results>, or <u64 id><u8 0><failure> (see failure()).
    std::string run_request(std::string_view in)
    {
        std::string reply;
        wire::put(reply, wire::take<std::uint64_t>(in));
        auto fn = wire::take<std::uint32_t>(in);
        auto count = wire::take<std::uint32_t>(in);
        std::uint32_t item = 0;
        try {
            std::string results = registry_.at(fn)(in, count, item);
            wire::put(reply, std::uint8_t{1});
            reply += results;
        } catch (...) {  // `throw 42` too: a failed task, not a dead worker
            wire::put(reply, std::uint8_t{0});
            reply += failure(item);
        }
        return reply;
    }

    // ANCHOR: exceptions
    // The exception being handled, as bytes: <u8 kind><u32 item><i32 error code>
    // <u8 category: 1 system, else generic><what()>. kind says which standard type it
    // is (wire::Carried), so that the caller can throw the same type.
    static std::string failure(std::uint32_t item)
    {
        std::uint8_t kind = 0, system = 0;
        std::int32_t code = 0;
        std::string what = "an exception not derived from std::exception";
        try {
            throw;
        } catch (const std::exception& e) {
            kind = wire::kind_of(e);
            what = e.what();
            if (auto* s = dynamic_cast<const std::system_error*>(&e))
                code = s->code().value(), system = s->code().category() == std::system_category();
        } catch (...) {
        }
        std::string out;
        wire::put(out, kind), wire::put(out, item), wire::put(out, code), wire::put(out, system);
        return out + what;
    }
    // ANCHOR_END: exceptions

    // ANCHOR: spawn
    Worker spawn()
    {
        wire::SharedLog log;
        // Held until our copy of the worker's end is closed: a pool forking meanwhile on
        // another thread would give its worker a copy of it (see PoolFds).
        std::lock_guard registry(wire::PoolFds::mutex);
        int sv[2];
        wire::check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        std::fflush(stdout);  // unflushed output would be printed by the child too
        pid_t pid = ::fork();
        if (pid < 0) {
            int error = errno;
            ::close(sv[0]);
            ::close(sv[1]);
            throw std::system_error(error, std::generic_category(), "fork");
        }
        if (pid == 0) {
            for (int fd : wire::PoolFds::fds) ::close(fd);  // every pool's, ours included
            ::close(sv[0]);
            worker_main(sv[1], *log.log);
        }
        ::close(sv[1]);
        wire::PoolFds::fds.insert(sv[0]);
        ++started_count_;
        {
            std::lock_guard lock(mutex_);
            current_pids_.push_back(pid);
        }
        Worker w;
        w.pid = pid;
        w.fd = sv[0];
        w.log = std::move(log);
        return w;
    }
    // ANCHOR_END: spawn

    static std::string describe(int status)
    {
        if (WIFSIGNALED(status))
            return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
                   ::strsignal(WTERMSIG(status)) + ")";
        return "exited with status " + std::to_string(WEXITSTATUS(status));
    }

    // ANCHOR: reap
    // Closes our end of w's socket and waits until the worker has ended: until the
    // deadline by itself, then after SIGKILL (which it cannot block or ignore).
    // Returns how it ended.
    std::string reap(Worker& w, Clock::time_point deadline)
    {
        if (w.fd >= 0) wire::PoolFds::close(w.fd);
        w.fd = -1;
        std::string how;
        auto pause = std::chrono::microseconds(50);
        for (bool killed = false;;) {
            int status = 0;
            pid_t r = ::waitpid(w.pid, &status, killed ? 0 : WNOHANG);
            if (r == w.pid) {
                how = describe(status);
                break;
            }
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {  // e.g. ECHILD: someone set SIGCHLD to SIG_IGN and the kernel reaped it
                how = std::string("ended, status unknown (waitpid: ") + std::strerror(errno) + ")";
                break;
            }
            if (!killed && Clock::now() >= deadline) {
                ::kill(w.pid, SIGKILL);
                killed = true;
                continue;
            }
            std::this_thread::sleep_for(pause);
            pause = std::min<std::chrono::microseconds>(pause * 2, std::chrono::milliseconds(10));
        }
        std::lock_guard lock(mutex_);
        std::erase(current_pids_, w.pid);
        return how;
    }

    // Asks an idle worker to exit: an empty request frame.
    static void send_stop(Worker& w)
    {
        const char stop[4] = {};
        try {
            wire::write_all(w.fd, stop, sizeof stop);
        } catch (const std::system_error&) {
            // EPIPE: it has already gone.
        }
    }
    // ANCHOR_END: reap

    // ANCHOR: crash_recovery
    // A worker died or was killed. Its first job was running: retry or fail it. The jobs
    // queued behind it never started: they go back to the front of the queue, in order.
    // Then report the loss and start a replacement.
    void replace(Worker& w, const std::string& why, std::exception_ptr failure)
    {
        std::deque<Job> jobs = std::move(w.jobs);
        std::optional<Job> running;
        if (!jobs.empty()) {
            running = std::move(jobs.front());
            jobs.pop_front();
        }
        if (options_.on_worker_lost) options_.on_worker_lost(why);
        {
            std::lock_guard lock(mutex_);
            for (auto j = jobs.rbegin(); j != jobs.rend(); ++j) pending_.push_front(std::move(*j));
            if (running && !failure && running->attempts < options_.max_retries) {
                ++running->attempts;
                pending_.push_front(std::move(*running));  // run it again, first in line
                running.reset();
            }
        }
        if (running && !failure) failure = error<WorkerLost>(why);
        if (running) running->done({}, std::move(failure));  // see result_of()
        w = spawn();
    }

    // Handles every result in the worker's log and socket buffer; returns how many.
    // Never replaces the worker (recycling is done by the dispatch loop alone).
    std::size_t take_replies(Worker& w)
    {
        w.log->take(w.from_log);
        return handle_replies(w, w.from_log) + handle_replies(w, w.from_socket);
    }

    std::size_t handle_replies(Worker& w, wire::FrameBuffer& frames)
    {
        std::size_t n = 0;
        while (auto frame = frames.next())
            if (!frame->empty()) on_reply(w, *frame), ++n;  // empty: a wake-up
        return n;
    }

    // The worker's socket is readable: wake-ups, big results, or end of file.
    void on_readable(Worker& w)
    {
        if (w.from_socket.fill(w.fd)) {
            handle_replies(w, w.from_socket);
            return;
        }
        // End of file: the worker is gone (or going). Collect what it finished; the
        // first job left is the one it was running.
        pid_t pid = w.pid;
        std::string how = reap(w, Clock::now() + kStopGrace);
        take_replies(w);
        std::string why = "worker " + std::to_string(pid) + " " + how;
        if (!w.jobs.empty()) why += " while running task " + std::to_string(w.jobs.front().id);
        replace(w, why, nullptr);
    }
    // ANCHOR_END: crash_recovery

    // A result. Usually for the first job; a result sent through the socket may overtake
    // results in the log, so look the job up by its id.
    void on_reply(Worker& w, std::string_view in)
    {
        auto id = wire::take<std::uint64_t>(in);
        bool ok = wire::take<std::uint8_t>(in) != 0;
        if (id == kInitializerFailed)  // the dispatch loop ends; dispatch() breaks the pool
            throw BrokenPool("the initializer failed in worker " + std::to_string(w.pid) +
                             ": " + std::string(in));
        auto it = std::find_if(w.jobs.begin(), w.jobs.end(), [id](const Job& j) { return j.id == id; });
        if (it == w.jobs.end()) return;  // not ours (cannot happen; ignore rather than crash)
        Job job = std::move(*it);
        w.jobs.erase(it);
        w.unread_bytes -= job.frame_size();
        // A running average of how long jobs take decides how many to queue (window()).
        auto now = Clock::now();
        double us = std::chrono::duration<double, std::micro>(now - w.front_since).count();
        w.task_us = w.task_us == 0 ? us : 0.875 * w.task_us + 0.125 * us;
        w.front_since = now;  // the next job started when this one ended
        ++w.tasks_done;       // dispatch_loop() recycles it at max_tasks_per_child
        if (ok) job.done(in, nullptr);
        else job.done({}, remote_error(in, w.pid, job.first));
    }

    // The loop ends by an exception when an initializer threw or a worker could not be
    // replaced: the pool is broken. Fail everything rather than hang callers.
    void dispatch()
    {
        try {
            dispatch_loop();
        } catch (const std::exception& e) {
            {
                std::lock_guard lock(mutex_);
                broken_ = e.what();
            }
            fail_all(std::current_exception());
        } catch (...) {
            fail_all(std::current_exception());
        }
    }

    // ANCHOR: batching
    // How many jobs this worker may hold: about kQueuedWorkUs of work, one at a time
    // until we know how long its jobs take, and never past max_tasks_per_child.
    std::size_t window(const Worker& w) const
    {
        double fits = w.task_us > 0 ? kQueuedWorkUs / w.task_us : 1;
        auto n = static_cast<std::size_t>(std::clamp(fits, 1.0, double(options_.max_queued_per_worker)));
        if (options_.max_tasks_per_child)
            n = std::min(n, options_.max_tasks_per_child - std::min(w.tasks_done, options_.max_tasks_per_child));
        return std::max<std::size_t>(n, 1);
    }
    // ANCHOR_END: batching

    // ANCHOR: max_tasks_per_child
    // The worker has run max_tasks_per_child jobs and holds no more (window() sent it no
    // more than that): time to replace it.
    bool spent(const Worker& w) const
    {
        return options_.max_tasks_per_child && w.tasks_done >= options_.max_tasks_per_child &&
               w.jobs.empty();
    }

    bool can_take(const Worker& w, const Job& job) const
    {
        if (w.jobs.empty()) return true;  // an idle worker reads everything it is sent
        return w.jobs.size() < window(w) && w.unread_bytes + job.frame_size() <= kUnreadBytes;
    }

    void dispatch_loop()
    {
        for (;;) {
            for (auto& w : workers_) {
                if (!spent(w)) continue;
                send_stop(w);  // it is idle: it reads this at once and exits
                reap(w, Clock::now() + kStopGrace);
                w = spawn();
            }
            // ANCHOR_END: max_tasks_per_child
            bool stop_now = false, finished = false;
            std::vector<std::size_t> fresh(workers_.size(), 0);  // jobs given to each
            {
                std::lock_guard lock(mutex_);
                if (terminating_) {
                    stop_now = true;
                } else {
                    // Deal jobs round by round, one per worker that can take one, so
                    // a short queue is shared rather than given to the first worker. A
                    // busy worker is topped up only once half its queue is done: one
                    // send() then carries many jobs.
                    std::vector<bool> low(workers_.size());
                    for (std::size_t i = 0; i < workers_.size(); ++i)
                        low[i] = workers_[i].jobs.size() <= window(workers_[i]) / 2;
                    for (bool dealt = true; dealt && !pending_.empty();) {
                        dealt = false;
                        for (std::size_t i = 0; i < workers_.size() && !pending_.empty(); ++i) {
                            Worker& w = workers_[i];
                            if (!low[i] || !can_take(w, pending_.front())) continue;
                            w.unread_bytes += pending_.front().frame_size();
                            w.jobs.push_back(std::move(pending_.front()));
                            pending_.pop_front();
                            ++fresh[i];
                            dealt = true;
                        }
                    }
                    bool busy = false;
                    for (auto& w : workers_) busy = busy || !w.jobs.empty();
                    finished = closing_ && pending_.empty() && !busy;
                }
            }
            if (stop_now) {
                fail_all(error<PoolClosed>("pool terminated"));
                return;
            }
            if (finished) return;
            for (std::size_t i = 0; i < workers_.size(); ++i)
                if (fresh[i]) send_jobs(workers_[i], fresh[i]);
            wait_and_handle();
        }
    }

    // Sends the last `count` jobs of w.jobs with one send().
    void send_jobs(Worker& w, std::size_t count)
    {
        std::string frames;
        for (auto j = w.jobs.end() - static_cast<std::ptrdiff_t>(count); j != w.jobs.end(); ++j) {
            std::string request;
            wire::put(request, j->id);
            wire::put(request, j->fn);
            wire::put(request, j->count);
            request += j->args;
            wire::append_frame(frames, request);
        }
        if (count == w.jobs.size()) w.front_since = Clock::now();  // it was idle
        try {
            wire::write_all(w.fd, frames.data(), frames.size());
        } catch (const std::system_error&) {
            // EPIPE: it died while idle. poll() will report end of file and replace it.
        }
    }

    // Handles the results that are there and the events on the descriptors. If there
    // were no results, sleeps in poll() until a result, a submission (eventfd), a dead
    // worker or the next task deadline.
    void wait_and_handle()
    {
        std::size_t handled = 0;
        for (auto& w : workers_) handled += take_replies(w);
        if (handled > 0) {
            poll_events(0);  // just look: a worker may have died meanwhile
        } else {
            // Going to sleep. A worker that adds a result after seeing reader_asleep sends
            // a wake-up; one that added it before, we see in empty(). Both sides use
            // seq_cst, so no result can slip between the two and leave us asleep.
            for (auto& w : workers_) w.log->reader_asleep.store(true);
            bool ready = false;
            for (auto& w : workers_) ready = ready || !w.log->empty();
            poll_events(ready ? 0 : next_deadline_ms());
            for (auto& w : workers_) w.log->reader_asleep.store(false);
        }
        if (options_.task_timeout.count() > 0) kill_overdue();
    }

    int next_deadline_ms() const
    {
        int timeout_ms = -1;  // none: wait as long as it takes
        for (auto& w : workers_) {
            if (options_.task_timeout.count() == 0 || w.jobs.empty()) continue;
            auto left = std::chrono::ceil<std::chrono::milliseconds>(
                w.front_since + options_.task_timeout - Clock::now());
            int ms = static_cast<int>(std::max<std::int64_t>(left.count(), 0));
            timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
        }
        return timeout_ms;
    }

    void poll_events(int timeout_ms)
    {
        std::vector<pollfd> fds{{wake_fd_, POLLIN, 0}};
        for (auto& w : workers_) fds.push_back({w.fd, POLLIN, 0});
        int n = ::poll(fds.data(), fds.size(), timeout_ms);
        if (n < 0 && errno == EINTR) return;
        wire::check(n >= 0, "poll");
        if (fds[0].revents) {
            std::uint64_t count;
            (void)!::read(wake_fd_, &count, sizeof count);
        }
        for (std::size_t i = 0; i < workers_.size(); ++i)
            if (fds[i + 1].revents) on_readable(workers_[i]);
    }

    // ANCHOR: timeouts
    // A task ran past task_timeout: SIGKILL its worker (a hung task may ignore SIGTERM).
    void kill_overdue()
    {
        for (auto& w : workers_) {
            take_replies(w);  // what finished in time is not overdue
            if (w.jobs.empty() || Clock::now() < w.front_since + options_.task_timeout) continue;
            pid_t pid = w.pid;
            ::kill(pid, SIGKILL);
            reap(w, Clock::now());
            take_replies(w);  // finished while we decided: still delivered
            if (w.jobs.empty()) {
                w = spawn();  // it had just finished after all; nothing was lost
                continue;
            }
            std::string why = "worker " + std::to_string(pid) + " killed: task " +
                              std::to_string(w.jobs.front().id) +
                              " exceeded " + std::to_string(options_.task_timeout.count()) + " ms";
            replace(w, why, error<TaskTimeout>(why));
        }
    }
    // ANCHOR_END: timeouts

    // ANCHOR: shutdown
    void fail_all(std::exception_ptr why)
    {
        std::deque<Job> jobs;
        for (auto& w : workers_) {
            for (auto& j : w.jobs) jobs.push_back(std::move(j));  // sent first
            w.jobs.clear();
            if (w.fd >= 0) ::kill(w.pid, SIGTERM);
        }
        {
            std::lock_guard lock(mutex_);
            closing_ = terminating_ = true;
            for (auto& j : pending_) jobs.push_back(std::move(j));
            pending_.clear();
        }
        for (std::size_t i = 0; i < jobs.size(); ++i)  // the last one takes our reference
            jobs[i].done({}, i + 1 < jobs.size() ? why : std::move(why));
    }

    // After the dispatcher has stopped: tell every worker to stop, close its socket, and
    // wait for it, with SIGKILL for any still there after `grace`.
    void reap_all(Clock::duration grace)
    {
        for (auto& w : workers_)
            if (w.fd >= 0) send_stop(w);
        auto deadline = Clock::now() + grace;
        for (auto& w : workers_)
            if (w.fd >= 0) reap(w, deadline);
        workers_.clear();
        if (wake_fd_ >= 0) wire::PoolFds::close(wake_fd_);
        wake_fd_ = -1;
    }
    // ANCHOR_END: shutdown

    PoolOptions options_;
    std::vector<Wire> registry_;  // filled before start(), read-only afterwards
    std::vector<Worker> workers_; // the dispatcher thread's, once it runs
    std::atomic<bool> started_{false};
    std::atomic<std::size_t> started_count_{0};
    int wake_fd_ = -1;            // eventfd: "look at the queue again"

    mutable std::mutex mutex_;    // guards everything below
    std::deque<Job> pending_;
    std::uint64_t next_id_ = 0;
    bool closing_ = false, terminating_ = false;
    std::string broken_;          // why the pool is broken; empty while it is not
    std::vector<pid_t> current_pids_;

    std::thread dispatcher_;      // last: it starts after everything above exists
};
