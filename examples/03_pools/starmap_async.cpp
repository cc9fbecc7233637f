// starmap_async.cpp — several arguments per task: starmap and starmap_async.
//
// Python:  with Pool(2) as pool:
//              pool.starmap(power, [(2, 10), (3, 4)])            # power(*t) for each t
//              r = pool.starmap_async(label, zip(names, counts))  # returns at once
//              r.get()                                            # the list of results
//
// In C++ a task's arguments are a std::tuple. The parent writes each tuple into bytes,
// field by field; a child process reads the fields back into a tuple of the function's
// parameter types and calls the function with std::apply, the C++ spelling of f(*args).
//
// The "pool" is the simplest one that works: every call forks one child per chunk of
// tuples, sends it the chunk through one pipe and reads the results through another.
// (process_pool.cpp is a persistent pool with futures, time-outs and crash recovery.)
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <iostream>
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

struct RemoteError : std::runtime_error {  // the task function threw in a child
    using std::runtime_error::runtime_error;
};

// ---- values as bytes ---------------------------------------------------------------------
// Python pickles the arguments. We copy trivially copyable values byte for byte and send a
// std::string as <u32 length><bytes>. The child is a fork of this very program, so both
// ends agree on every type's size and layout.
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
    constexpr bool is_string = std::is_same_v<T, std::string>;
    std::size_t size = is_string ? take<std::uint32_t>(in) : sizeof(T);
    if (in.size() < size) throw std::runtime_error("truncated message");
    T value{};
    if constexpr (is_string) value.assign(in.data(), size);
    else std::memcpy(&value, in.data(), size);
    in.remove_prefix(size);
    return value;
}

// ---- pipes and children ------------------------------------------------------------------
// This program installs no signal handler, so read, write and waitpid are never
// interrupted (EINTR) and need no retry loop.
struct Pipe {  // bytes written to fd[1] come out of fd[0]; ends still open close at scope exit
    int fd[2];
    Pipe() { check(::pipe(fd) == 0, "pipe"); }
    Pipe(const Pipe&) = delete;
    Pipe& operator=(const Pipe&) = delete;
    ~Pipe() { close(0), close(1); }
    void close(int end) { if (fd[end] >= 0) ::close(std::exchange(fd[end], -1)); }
};

void write_all(int fd, std::string_view bytes)
{
    while (!bytes.empty()) {
        ssize_t n = ::write(fd, bytes.data(), bytes.size());
        check(n > 0, "write");
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string read_to_eof(int fd)  // EOF comes when every copy of the write end is closed
{
    std::string data;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
        check(n > 0, "read");
        data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
}

// What a child does with its chunk. Request: <u32 count> and the fields of each tuple.
// Reply: 'k' and the results, or 'e' and the message of the first exception.
template <class R, class... A>
std::string serve(R (*fn)(A...), std::string_view request)
{
    std::string reply = "k";
    try {
        for (auto count = take<std::uint32_t>(request); count > 0; --count) {
            // Braces: the take<A> calls run left to right, the order put() wrote the fields
            // in. In a function call, f(take<A>(request)...), the order is unspecified.
            std::tuple<A...> args{take<A>(request)...};
            put(reply, std::apply(fn, std::move(args)));  // Python: fn(*args)
        }
    } catch (const std::exception& e) {
        reply = "e";  // and the rest of the chunk is skipped
        put(reply, std::string(e.what()));
    }
    return reply;
}

// One child process for one chunk. If finish() is never reached (an exception), the
// destructor kills and reaps the child, so no zombie or orphan is left behind.
class Child {
public:
    Child() = default;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child()
    {
        if (reply_ >= 0) ::close(reply_);
        if (pid_ > 0) ::kill(pid_, SIGKILL), ::waitpid(pid_, nullptr, 0);
    }

    // fn is a plain function pointer: the child is a copy of this process, so the function
    // is already there, at the same address. Only the argument bytes travel, never code.
    template <class R, class... A>
    void start(R (*fn)(A...), const std::string& request)
    {
        Pipe to_child, to_parent;
        std::fflush(stdout);  // else the child inherits unwritten output and prints it again
        pid_ = ::fork();
        check(pid_ >= 0, "fork");
        if (pid_ == 0) {
            // The child. starmap_async forks from a second thread, and the child gets only
            // the thread that called fork(): a lock another thread held at that moment stays
            // locked. So the child only reads, runs fn, allocates (glibc's malloc is safe
            // after fork) and writes: no iostream, no threads. It ends with _exit: no atexit
            // handlers, no flushing of buffers copied from the parent.
            to_child.close(1);  // our copy of the write end would keep EOF from coming
            to_parent.close(0);
            int status = 0;
            try {
                write_all(to_parent.fd[1], serve(fn, read_to_eof(to_child.fd[0])));
            } catch (...) {
                status = 1;  // a pipe failed: the parent sees the exit status
            }
            ::_exit(status);
        }
        reply_ = std::exchange(to_parent.fd[0], -1);
        to_parent.close(1);  // else our own copy of the write end would keep the reply open
        // Why this cannot deadlock, whatever the size: a pipe holds 64 KiB, and a write
        // blocks while it is full. The child reads the whole request before it writes a
        // byte, so this write always completes; a large reply then waits in the child
        // until finish() reads it. (Writing while the child also writes could block both.)
        write_all(to_child.fd[1], request);
    }  // ~Pipe closes the request's write end: the child sees EOF after the last tuple

    std::string finish()  // the whole reply, then the child's exit status
    {
        std::string reply = read_to_eof(reply_);
        int status = 0;
        check(::waitpid(pid_, &status, 0) == pid_, "waitpid");
        pid_ = -1;
        if (WIFSIGNALED(status))  // a crash is an error too, though it sent no message
            throw std::runtime_error("child killed by signal " + std::to_string(WTERMSIG(status)));
        if (WEXITSTATUS(status) != 0) throw std::runtime_error("child could not use its pipes");
        return reply;
    }

private:
    pid_t pid_ = -1;
    int reply_ = -1;  // the read end of the reply pipe
};

// ---- starmap and starmap_async ----------------------------------------------------------
// The tuple type comes from the function (type_identity_t: A... is not deduced from the
// vector), so {2, 10} converts to (std::int64_t, int) at compile time.
template <class... A>
using Tuples = std::vector<std::tuple<A...>>;

template <class R, class... A>
std::vector<R> starmap(R (*fn)(A...), const std::type_identity_t<Tuples<A...>>& tuples,
                       std::size_t workers)
{
    static_assert((std::is_same_v<A, std::decay_t<A>> && ...), "take arguments by value");
    std::size_t chunks = std::min(workers, tuples.size()), first = 0;
    std::vector<Child> children(chunks);
    for (std::size_t c = 0; c < chunks; ++c) {  // contiguous chunks, sizes differ by <= 1
        std::size_t size = tuples.size() / chunks + (c < tuples.size() % chunks ? 1 : 0);
        std::string request;
        put(request, static_cast<std::uint32_t>(size));
        for (std::size_t i = first; i < first + size; ++i)
            std::apply([&](const A&... field) { (put(request, field), ...); }, tuples[i]);
        first += size;
        children[c].start(fn, request);
    }
    // All children are running. Collect the replies in chunk order, which is input order.
    std::vector<R> results;
    for (Child& child : children) {
        std::string bytes = child.finish();
        std::string_view reply = bytes;
        if (reply.empty()) throw std::runtime_error("empty reply");
        bool failed = reply.front() == 'e';
        reply.remove_prefix(1);
        if (failed) throw RemoteError(take<std::string>(reply));  // ~Child reaps the rest
        while (!reply.empty()) results.push_back(take<R>(reply));
    }
    return results;
}

// Python's AsyncResult is a std::future: the same work on another thread. The tuples are
// taken by value, because the caller may drop its own vector before the work is done.
template <class R, class... A>
std::future<std::vector<R>> starmap_async(R (*fn)(A...), std::type_identity_t<Tuples<A...>> tuples,
                                          std::size_t workers)
{
    return std::async(std::launch::async, [fn, tuples = std::move(tuples), workers] {
        return starmap(fn, tuples, workers);
    });
}

// ================================ demonstration ==========================================
std::int64_t power(std::int64_t base, int exponent)
{
    std::int64_t r = 1;
    for (int i = 0; i < exponent; ++i) r *= base;
    return r;
}

// Mixed argument types: a string travels as <length><bytes>, a number as raw bytes.
std::string label(std::string name, std::int64_t count)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a slow task
    return name + " x" + std::to_string(count) + " (pid " + std::to_string(::getpid()) + ")";
}

std::int64_t ratio(std::int64_t a, std::int64_t b)
{
    if (b == 0) throw std::domain_error("ratio(" + std::to_string(a) + ", 0): division by zero");
    return a / b;
}

}  // namespace

// The story: starmap in order, starmap_async as a future, and one failing tuple.
int main(int argc, char**)
{
    if (argc > 1) {
        std::cerr << "usage: starmap_async\n";
        return 2;
    }
    // A child that dies early must make our write fail with EPIPE, not kill us by SIGPIPE.
    check(::signal(SIGPIPE, SIG_IGN) != SIG_ERR, "signal");
    const std::size_t workers = 2;

    // 1. starmap: one tuple per task, results in input order. The same std::apply that
    //    the child uses gives us the serial answer to compare with.
    std::vector<std::tuple<std::int64_t, int>> pairs{{2, 10}, {3, 4}, {10, 3}, {7, 0}};
    std::vector<std::int64_t> powers = starmap(power, pairs, workers);
    bool same = powers.size() == pairs.size();
    for (std::size_t i = 0; same && i < pairs.size(); ++i) {
        auto [base, exponent] = pairs[i];
        std::cout << "power(" << base << ", " << exponent << ") = " << powers[i] << '\n';
        same = powers[i] == std::apply(power, pairs[i]);
    }
    std::cout << "starmap == serial std::apply, in input order: " << (same ? "yes" : "NO") << '\n';

    // 2. starmap_async over zipped vectors (Python: zip(names, counts); C++23 has
    //    std::views::zip). It returns a future at once; each of the 2 children runs
    //    2 tasks of 100 ms, so the results take at least 200 ms.
    std::vector<std::string> names{"apple", "pear", "plum", "fig"};
    std::vector<std::int64_t> counts{3, 1, 4, 1};
    std::vector<std::tuple<std::string, std::int64_t>> zipped;
    for (std::size_t i = 0; i < names.size(); ++i) zipped.emplace_back(names[i], counts[i]);

    auto t0 = std::chrono::steady_clock::now();
    std::future<std::vector<std::string>> labels = starmap_async(label, zipped, workers);
    bool ready_at_once = labels.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    std::vector<std::string> got = labels.get();
    auto took = std::chrono::steady_clock::now() - t0;
    for (const auto& s : got) std::cout << "label: " << s << '\n';
    bool async_ok = !ready_at_once && took >= std::chrono::milliseconds(200) && got.size() == 4 &&
                    got[0].starts_with("apple x3 ") && got[3].starts_with("fig x1 ");
    std::cout << "starmap_async returned a future before the work was done: "
              << (async_ok ? "yes" : "NO") << '\n';
    auto pid = [&](std::size_t i) { return got[i].substr(got[i].rfind(' ') + 1); };  // "12)"
    bool chunked = got.size() == 4 && pid(0) == pid(1) && pid(2) == pid(3) && pid(1) != pid(2);
    std::cout << "4 tuples ran in 2 child processes, 2 in a row each: "
              << (chunked ? "yes" : "NO") << '\n';

    // 3. One failing tuple fails the whole starmap, with the child's message.
    std::string error;
    try {
        starmap(ratio, {{10, 2}, {1, 0}, {9, 3}}, workers);
    } catch (const RemoteError& e) {
        error = e.what();
    }
    std::cout << "starmap raised: " << error << '\n';
    bool raised = error == "ratio(1, 0): division by zero";

    bool ok = same && async_ok && chunked && raised;
    std::cout << (ok ? "OK" : "FAILED") << ": tuples unpacked with std::apply in forked children\n";
    return ok ? 0 : 1;
}
