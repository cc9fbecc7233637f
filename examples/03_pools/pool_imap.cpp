// pool_imap.cpp - step 3: imap() and imap_unordered(). Instead of writing every task
// and then waiting for all results, the pool keeps at most `window` tasks in flight
// and hands each result to the caller as soon as it may: imap() in input order (a
// result that arrives early waits in a buffer), imap_unordered() as it arrives.
#include <sys/wait.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

struct Task { std::uint32_t index; std::int64_t arg; };
struct Reply { std::uint32_t index; std::int64_t value; };

// The pool of step 2, reduced to what imap needs: send one task, take one reply.
struct Pool {
    struct Workers {  // Python's `with Pool()` ends with terminate(): kill and reap
        std::vector<pid_t> pids;
        ~Workers() { for (pid_t p : pids) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    };
    Fd task_read, task_write, reply_read, reply_write;
    Workers workers;  // last: destroyed first, also when a fork() below throws
    explicit Pool(int n) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        task_read = Fd(fds[0]), task_write = Fd(fds[1]);
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        reply_read = Fd(fds[0]), reply_write = Fd(fds[1]);
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) child([this] { return work(); });
            workers.pids.push_back(pid);
        }
        reply_write.close();  // all workers dead -> end of file, not a hang
    }
    int work() {
        task_write.close();
        for (Task t; receive(task_read.get(), t);) {
            ::usleep(5000);  // the work: 5 ms per task
            send(reply_write.get(), Reply{t.index, t.arg * t.arg});
        }
        return 0;
    }
};

// pool.imap(f, xs) / pool.imap_unordered(f, xs): a lazy stream; next() gives one result.
struct Imap {
    Imap(Pool& p, std::vector<std::int64_t> xs, bool ordered, std::size_t window)
        : pool_(p), xs_(std::move(xs)), ordered_(ordered), window_(window) {}
    std::optional<std::int64_t> next() {
        if (returned_ == xs_.size()) return std::nullopt;  // Python: StopIteration
        for (;;) {
            auto ready = ordered_ ? early_.find(static_cast<std::uint32_t>(returned_)) : early_.begin();
            if (ready != early_.end()) {
                const std::int64_t value = ready->second;
                early_.erase(ready);
                ++returned_;
                return value;
            }
            for (; sent_ < xs_.size() && sent_ - received_ < window_; ++sent_)  // keep `window` in flight
                send(pool_.task_write.get(), Task{static_cast<std::uint32_t>(sent_), xs_[sent_]});
            Reply r;
            if (!receive(pool_.reply_read.get(), r)) throw std::runtime_error("the workers died");
            ++received_;
            early_[r.index] = r.value;  // imap: held here until its turn
        }
    }
    Pool& pool_;
    std::vector<std::int64_t> xs_;
    bool ordered_;
    std::size_t window_, sent_ = 0, received_ = 0, returned_ = 0;
    std::map<std::uint32_t, std::int64_t> early_;
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_imap", [] {
        Pool pool(2);
        std::vector<std::int64_t> xs(20);
        for (std::size_t x = 0; x < xs.size(); ++x) xs[x] = static_cast<std::int64_t>(x);
        bool ok = true;
        for (bool ordered : {true, false}) {
            Imap stream(pool, xs, ordered, 4);
            std::int64_t sum = 0, i = 0;
            std::cout << (ordered ? "imap:          " : "imap_unordered:");
            while (auto y = stream.next()) {
                if (i == 0) {  // the proof of laziness: most tasks are not even sent yet
                    std::cout << " (first result after " << stream.sent_ << " of 20 tasks sent)";
                    ok = ok && stream.sent_ < xs.size();
                }
                std::cout << ' ' << *y;
                ok = ok && (!ordered || *y == i * i);
                sum += *y, ++i;
            }
            ok = ok && sum == 2470 && i == 20;  // 0^2 + ... + 19^2
            std::cout << "\n  sum " << sum << " (expected 2470)\n";
        }
        std::cout << (ok ? "OK" : "FAILED") << ": results streamed before the last task was sent\n";
        return ok;
    });
}
