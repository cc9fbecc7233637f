// pool_starmap.cpp - the pool takes several arguments per task: starmap(f, tuples)
// calls f(*args) in a worker. A task is its index and the tuple's elements, copied
// byte for byte one after the other (plain values only; strings need framing: see
// process_pool); the worker rebuilds the tuple and calls std::apply(f, args), the C++
// spelling of f(*args).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <future>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <vector>

namespace {
int check(long rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return static_cast<int>(rc);
}

template <class R, class... A>
class StarPool {  // the workers are forked with the function: fork copies it with the program
    static_assert((std::is_trivially_copyable_v<A> && ... && std::is_trivially_copyable_v<R>));
    struct Task { std::uint32_t index; char bytes[(sizeof(A) + ... + 0)]; };  // <= PIPE_BUF
    struct Reply { std::uint32_t index; R value; };
    template <class T> static T take(const char*& p) {  // the next element, in order
        T value;
        std::memcpy(&value, p, sizeof value);
        p += sizeof value;
        return value;
    }

public:
    StarPool(R (*fn)(A...), int n) : StarPool() {  // delegating: if this throws, ~StarPool() runs
        check(::pipe2(tasks_, O_CLOEXEC), "pipe2");
        check(::pipe2(replies_, O_CLOEXEC), "pipe2");
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) {  // the worker: f(*args) for each task, until end of file
                ::close(tasks_[1]);
                Task t;
                while (::read(tasks_[0], &t, sizeof t) == sizeof t) {
                    const char* p = t.bytes;
                    const std::tuple<A...> args{take<A>(p)...};  // braces: read left to right
                    const Reply r{t.index, std::apply(fn, args)};
                    if (::write(replies_[1], &r, sizeof r) != sizeof r) _exit(1);
                }
                _exit(0);
            }
            pids_.push_back(pid);
        }
        ::close(replies_[1]);  // the workers hold the only write ends: all dead -> EOF
        replies_[1] = -1;
    }
    ~StarPool() {  // terminate(): kill, reap, close
        for (pid_t p : pids_) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
        for (int fd : {tasks_[0], tasks_[1], replies_[0], replies_[1]}) if (fd != -1) ::close(fd);
    }
    std::vector<R> starmap(const std::vector<std::tuple<A...>>& tuples) {
        for (std::uint32_t i = 0; i < tuples.size(); ++i) {
            Task t{i, {}};
            char* p = t.bytes;
            std::apply([&p](const A&... a) { ((std::memcpy(p, &a, sizeof a), p += sizeof a), ...); }, tuples[i]);
            check(::write(tasks_[1], &t, sizeof t), "write");
        }
        std::vector<R> out(tuples.size());
        for (std::size_t got = 0; got < tuples.size(); ++got) {
            Reply r;
            if (check(::read(replies_[0], &r, sizeof r), "read") == 0)
                throw std::runtime_error("the workers died");
            out.at(r.index) = r.value;  // input order, as in step 2
        }
        return out;
    }
    std::future<std::vector<R>> starmap_async(std::vector<std::tuple<A...>> tuples) {
        // No fork in this thread: the workers exist already, so threads are safe here.
        return std::async(std::launch::async, [this, t = std::move(tuples)] { return starmap(t); });
    }

private:
    StarPool() = default;
    int tasks_[2]{-1, -1}, replies_[2]{-1, -1};
    std::vector<pid_t> pids_;
};

std::int64_t power(std::int64_t base, int exponent) {
    std::int64_t r = 1;
    for (int i = 0; i < exponent; ++i) r *= base;
    return r;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        StarPool pool(power, 2);     // R = std::int64_t, A... = std::int64_t, int
        const auto sync = pool.starmap({{2, 10}, {3, 4}, {10, 3}});
        auto later = pool.starmap_async({{5, 2}, {7, 2}});  // returns at once
        const auto async = later.get();
        std::cout << "starmap(power, [(2, 10), (3, 4), (10, 3)]) = [" << sync[0] << ", " << sync[1]
                  << ", " << sync[2] << "]\nstarmap_async(power, [(5, 2), (7, 2)]).get() = ["
                  << async[0] << ", " << async[1] << "]\n";
        const bool ok = sync == std::vector<std::int64_t>{1024, 81, 1000} &&
                        async == std::vector<std::int64_t>{25, 49};
        std::cout << (ok ? "OK" : "FAILED") << ": std::apply called power(*args) in the workers\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // main catches: the call's name and errno
        std::cerr << "pool_starmap: " << e.what() << '\n';
        return 1;
    }
}
