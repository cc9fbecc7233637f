// pool_starmap.cpp - several arguments per task: starmap(f, tuples) calls f(*args)
// in a worker. A task is its index and the tuple's elements, copied byte for byte
// (plain values only; strings need framing: see process_pool); the worker rebuilds
// the tuple and calls std::apply(f, args), the C++ spelling of f(*args).
#include <sys/wait.h>

#include <cstdint>
#include <cstring>
#include <future>
#include <tuple>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

template <class R, class... A>
class StarPool {  // the workers are forked with the function: fork copies it with the program
    static_assert((std::is_trivially_copyable_v<A> && ... && std::is_trivially_copyable_v<R>));
    struct Task { std::uint32_t index; char bytes[(sizeof(A) + ... + 0)]; };  // <= PIPE_BUF
    struct Reply { std::uint32_t index; R value; };

public:
    StarPool(R (*fn)(A...), int n) {  // a throw destroys the members built so far
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        tasks_read_ = Fd(fds[0]), tasks_write_ = Fd(fds[1]);
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        replies_read_ = Fd(fds[0]), replies_write_ = Fd(fds[1]);
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) child([&] {  // the worker: f(*args) for each task, until end of file
                tasks_write_.close();
                for (Task t; receive(tasks_read_.get(), t);) {
                    std::tuple<A...> args;  // filled as starmap() packed it: a comma fold runs left to right
                    const char* p = t.bytes;
                    std::apply([&p](A&... a) { ((std::memcpy(&a, p, sizeof a), p += sizeof a), ...); }, args);
                    send(replies_write_.get(), Reply{t.index, std::apply(fn, args)});
                }
                return 0;
            });
            workers_.pids.push_back(pid);
        }
        replies_write_.close();  // the workers hold the only write ends: all dead -> EOF
    }
    std::vector<R> starmap(const std::vector<std::tuple<A...>>& tuples) {
        for (std::uint32_t i = 0; i < tuples.size(); ++i) {
            Task t{i, {}};
            char* p = t.bytes;
            std::apply([&p](const A&... a) { ((std::memcpy(p, &a, sizeof a), p += sizeof a), ...); }, tuples[i]);
            send(tasks_write_.get(), t);
        }
        std::vector<R> out(tuples.size());
        for (std::size_t got = 0; got < tuples.size(); ++got) {
            Reply r;
            if (!receive(replies_read_.get(), r)) throw std::runtime_error("the workers died");
            out.at(r.index) = r.value;  // input order, as in step 2
        }
        return out;
    }
    std::future<std::vector<R>> starmap_async(std::vector<std::tuple<A...>> tuples) {
        // The workers exist already (no fork() after this thread starts): threads are safe.
        return std::async(std::launch::async, [this, t = std::move(tuples)] { return starmap(t); });
    }

private:
    struct Workers {  // terminate() on the way out: kill and reap
        std::vector<pid_t> pids;
        ~Workers() { for (pid_t p : pids) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    };
    Fd tasks_read_, tasks_write_, replies_read_, replies_write_;
    Workers workers_;  // last: destroyed first, before the pipes close
};

std::int64_t power(std::int64_t base, int exponent) {  // a function of two arguments
    return exponent == 0 ? 1 : base * power(base, exponent - 1);
}

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_starmap", [] {
        StarPool pool(power, 2);     // R = std::int64_t, A... = std::int64_t, int
        const auto sync = pool.starmap({{2, 10}, {3, 4}, {10, 3}});
        const auto async = pool.starmap_async({{5, 2}, {7, 2}}).get();  // a future at once
        const bool ok = sync == std::vector<std::int64_t>{1024, 81, 1000} && async == std::vector<std::int64_t>{25, 49};
        std::cout << "starmap(power, [(2, 10), (3, 4), (10, 3)]) = [" << sync[0] << ", " << sync[1] << ", " << sync[2]
                  << "]\nstarmap_async(power, [(5, 2), (7, 2)]).get() = [" << async[0] << ", " << async[1] << "]\n"
                  << (ok ? "OK" : "FAILED") << ": std::apply called power(*args) in the workers\n";
        return ok;
    });
}
