// pool_map_apply.cpp — a fork-based process pool with map (ordered) and apply (blocking).
//
// Python:  with Pool(3) as pool:
//              pool.map(square, range(12))
//              pool.apply(slow_double, (21,))
//
// C++ has no Pool, so we build the smallest one that works: N forked workers, one
// socketpair per worker, and length-prefixed messages ("frames") in both directions.
#include <sys/socket.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
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

namespace {

void check(bool ok, const char* what)
{
    if (!ok) throw std::system_error(errno, std::generic_category(), what);
}

// ---- bytes on the wire -------------------------------------------------------------
// Python pickles arguments; we copy trivially copyable values byte for byte and send
// strings as <u32 length><bytes>. Workers are forks of this very program, so both ends
// agree on every type's layout.
template <class T>
void put(std::string& out, const T& value)
{
    if constexpr (std::is_same_v<T, std::string>) {
        put(out, static_cast<std::uint32_t>(value.size()));
        out += value;
    } else {
        static_assert(std::is_trivially_copyable_v<T>, "send only plain values or strings");
        out.append(reinterpret_cast<const char*>(&value), sizeof value);
    }
}

template <class T>
T take(std::string_view& in)
{
    if constexpr (std::is_same_v<T, std::string>) {
        auto n = take<std::uint32_t>(in);
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

// ---- frames: <u32 length><payload> over a stream socket -------------------------------
void write_all(int fd, const char* p, std::size_t n)
{
    while (n > 0) {
        // MSG_NOSIGNAL: a dead peer gives EPIPE instead of killing us with SIGPIPE.
        ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        check(k >= 0, "send");
        p += k;
        n -= static_cast<std::size_t>(k);
    }
}

// false on end of file: the other side has gone.
bool read_all(int fd, char* p, std::size_t n)
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

void send_frame(int fd, std::string_view payload)
{
    std::string frame;
    put(frame, static_cast<std::uint32_t>(payload.size()));
    frame += payload;  // one write per frame: a reader never sees half a header
    write_all(fd, frame.data(), frame.size());
}

std::optional<std::string> recv_frame(int fd)
{
    std::uint32_t n = 0;
    if (!read_all(fd, reinterpret_cast<char*>(&n), sizeof n)) return std::nullopt;
    std::string payload(n, '\0');
    if (!read_all(fd, payload.data(), n)) return std::nullopt;
    return payload;
}

// ---- which function to run: a registry filled BEFORE fork ----------------------------
// A lambda cannot be pickled, but it does not need to be: every worker is a copy of the
// parent, so it already holds the same registry. A task names a function by its index.
using Wire = std::function<std::string(std::string_view)>;  // args bytes -> result bytes

template <class Sig>
struct Remote {
    std::uint32_t index;
};

class Registry {
public:
    template <class R, class... A>
    Remote<R(A...)> add(R (*fn)(A...))
    {
        wires_.push_back([fn](std::string_view in) {
            // Braced initialisation evaluates left to right: arguments are read in order.
            std::tuple<std::decay_t<A>...> args{take<std::decay_t<A>>(in)...};
            std::string out;
            put(out, std::apply(fn, args));
            return out;
        });
        return {static_cast<std::uint32_t>(wires_.size() - 1)};
    }
    std::string call(std::uint32_t index, std::string_view args) const
    {
        return wires_.at(index)(args);
    }

private:
    std::vector<Wire> wires_;
};

// ---- the worker side ------------------------------------------------------------------
// Task frame: <u64 id><u32 function><args>.  Reply frame: <u64 id><u8 ok><result | error>.
[[noreturn]] void worker_loop(int fd, const Registry& registry)
{
    while (auto frame = recv_frame(fd)) {  // the parent closing our socket means "stop"
        std::string_view in = *frame;
        auto id = take<std::uint64_t>(in);
        auto fn = take<std::uint32_t>(in);
        std::string reply;
        put(reply, id);
        try {
            std::string result = registry.call(fn, in);
            put(reply, std::uint8_t{1});
            reply += result;
        } catch (const std::exception& e) {
            put(reply, std::uint8_t{0});
            reply += e.what();
        }
        send_frame(fd, reply);
    }
    // _exit, not exit or return: this copy of main's stack must not run the parent's
    // destructors (they would wait for "its" workers, which are our siblings).
    ::_exit(0);
}

// ---- the pool ---------------------------------------------------------------------------
class Pool {
public:
    Pool(std::size_t workers, const Registry& registry)
    {
        for (std::size_t i = 0; i < workers; ++i) spawn(registry);
    }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Closing our ends is the "no more tasks" signal; then reap every child (no zombies).
    ~Pool()
    {
        for (auto& w : workers_) ::close(w.fd);
        for (auto& w : workers_) {
            while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {}
        }
    }

    std::vector<pid_t> pids() const
    {
        std::vector<pid_t> out;
        for (auto& w : workers_) out.push_back(w.pid);
        return out;
    }

    // Py: pool.map(f, xs) — results come back in input order, whoever finished first.
    template <class R, class A>
    std::vector<R> map(Remote<R(A)> fn, const std::vector<A>& xs)
    {
        std::vector<std::string> tasks;
        for (const A& x : xs) tasks.push_back(encode(fn.index, x));
        std::vector<R> results;
        for (const std::string& bytes : run(tasks)) {
            std::string_view in = bytes;
            results.push_back(take<R>(in));
        }
        return results;
    }

    // Py: pool.apply(f, args) — one task, and the caller blocks until its result is back.
    template <class R, class... A>
    R apply(Remote<R(A...)> fn, const A&... args)
    {
        std::string bytes = run({encode(fn.index, args...)}).front();
        std::string_view in = bytes;
        return take<R>(in);
    }

private:
    struct Worker {
        pid_t pid;
        int fd;                        // our end of the socketpair
        std::optional<std::size_t> task;  // which task it is running, if any
    };

    void spawn(const Registry& registry)
    {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        std::cout.flush();  // or the child would print our buffered text a second time
        pid_t pid = ::fork();
        check(pid >= 0, "fork");
        if (pid == 0) {
            // Close the parent's ends of the OTHER workers: while a sibling holds them, a
            // worker would never see end of file when the parent closes its socket.
            for (auto& w : workers_) ::close(w.fd);
            ::close(sv[0]);
            worker_loop(sv[1], registry);
        }
        ::close(sv[1]);
        workers_.push_back({pid, sv[0], std::nullopt});
    }

    template <class... A>
    static std::string encode(std::uint32_t fn, const A&... args)
    {
        std::string out;
        put(out, std::uint64_t{0});  // task id, filled in by run()
        put(out, fn);
        (put(out, args), ...);
        return out;
    }

    void send_task(Worker& w, std::size_t id, std::string task)
    {
        std::uint64_t wire_id = id;
        std::memcpy(task.data(), &wire_id, sizeof wire_id);
        send_frame(w.fd, task);
        w.task = id;
    }

    // Hand one task to each idle worker; whenever a result comes back, give that worker
    // the next task (dynamic load balancing). Store results by task id: that is what
    // makes map ordered.
    std::vector<std::string> run(const std::vector<std::string>& tasks)
    {
        std::vector<std::string> results(tasks.size());
        std::size_t next = 0, done = 0;
        for (auto& w : workers_)
            if (next < tasks.size()) send_task(w, next, tasks[next]), ++next;

        while (done < tasks.size()) {
            std::vector<pollfd> fds;
            for (auto& w : workers_) fds.push_back({w.fd, POLLIN, 0});
            int n = ::poll(fds.data(), fds.size(), -1);
            if (n < 0 && errno == EINTR) continue;
            check(n >= 0, "poll");
            for (std::size_t i = 0; i < fds.size(); ++i) {
                if (fds[i].revents == 0) continue;
                Worker& w = workers_[i];
                auto frame = recv_frame(w.fd);
                if (!frame) throw std::runtime_error("a worker died (see crash_recovery)");
                std::string_view in = *frame;
                auto id = take<std::uint64_t>(in);
                bool ok = take<std::uint8_t>(in) != 0;
                if (!ok) throw std::runtime_error("task failed in worker: " + std::string(in));
                results.at(id) = std::string(in);
                w.task.reset();
                ++done;
                if (next < tasks.size()) send_task(w, next, tasks[next]), ++next;
            }
        }
        return results;
    }

    std::vector<Worker> workers_;
};

// ---- the functions our workers may run ---------------------------------------------------
struct Answer {     // trivially copyable: it travels as raw bytes
    std::int64_t value;
    pid_t worker;   // who computed it, to show the work was spread out
};

Answer square(std::int64_t x)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pretend to work
    return {x * x, ::getpid()};
}

Answer slow_double(std::int64_t x)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return {2 * x, ::getpid()};
}

}  // namespace

int main(int argc, char**)
{
    if (argc > 1) {
        std::cerr << "usage: pool_map_apply\n";
        return 2;
    }
    Registry registry;  // fill it before the pool forks: workers get a copy
    auto square_fn = registry.add(square);
    auto slow_double_fn = registry.add(slow_double);

    Pool pool(3, registry);
    std::set<pid_t> pool_pids;
    for (pid_t p : pool.pids()) pool_pids.insert(p);
    std::cout << "pool: " << pool_pids.size() << " worker processes, parent pid "
              << ::getpid() << '\n';
    bool ok = pool_pids.size() == 3 && !pool_pids.count(::getpid());

    // map: 12 tasks over 3 workers; the answers must be in input order.
    std::vector<std::int64_t> xs;
    for (std::int64_t i = 0; i < 12; ++i) xs.push_back(i);
    std::vector<Answer> squares = pool.map(square_fn, xs);
    std::set<pid_t> used;
    bool in_order = squares.size() == xs.size();
    std::cout << "map(square, 0..11) =";
    for (std::size_t i = 0; i < squares.size(); ++i) {
        std::cout << ' ' << squares[i].value;
        in_order = in_order && squares[i].value == xs[i] * xs[i];
        used.insert(squares[i].worker);
    }
    std::cout << '\n';
    bool spread = used.size() == 3 && std::includes(pool_pids.begin(), pool_pids.end(),
                                                    used.begin(), used.end());
    std::cout << "map: results in input order: " << (in_order ? "yes" : "NO") << '\n';
    std::cout << "map: computed by " << used.size() << " different worker processes, none "
              << "of them the parent: " << (spread ? "yes" : "NO") << '\n';

    // apply: blocks the caller until the one result is back.
    auto t0 = std::chrono::steady_clock::now();
    Answer doubled = pool.apply(slow_double_fn, std::int64_t{21});
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0).count();
    bool blocked = doubled.value == 42 && ms >= 100 && pool_pids.count(doubled.worker);
    std::cout << "apply(slow_double, 21) = " << doubled.value << " from worker "
              << doubled.worker << " after " << ms << " ms\n";
    std::cout << "apply: the caller waited for the 100 ms task: " << (blocked ? "yes" : "NO")
              << '\n';

    ok = ok && in_order && spread && blocked;
    std::cout << (ok ? "OK" : "FAILED") << ": pool of processes, ordered map, blocking apply\n";
    return ok ? 0 : 1;
}
