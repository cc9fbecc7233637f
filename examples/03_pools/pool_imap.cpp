// pool_imap.cpp - step 3: imap() and imap_unordered(). The pool keeps at most `window`
// tasks in flight and hands out each result as soon as it may: imap() in input order
// (a result that arrives early waits in a buffer), imap_unordered() as it arrives.
#include <sys/wait.h>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

struct Message { std::uint32_t index; std::int64_t value; };  // a task out, its reply back

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
            if (pid == 0) child([this] {  // the worker: square each task, until end of file
                task_write.close();
                for (Message t; receive(task_read.get(), t);) {
                    ::usleep(5000);  // the work: 5 ms per task
                    send(reply_write.get(), Message{t.index, t.value * t.value});
                }
                return 0;
            });
            workers.pids.push_back(pid);
        }
        reply_write.close();  // all workers dead -> end of file, not a hang
    }
};

// pool.imap(square, range(n)) / imap_unordered: a lazy stream; next() gives one result.
struct Imap {  // an aggregate: Imap{pool, ordered, n, window}
    Pool& pool;
    bool ordered;
    std::uint32_t n, window, sent = 0, returned = 0;
    std::map<std::uint32_t, std::int64_t> early{};  // replies not handed out yet, by index
    std::optional<std::int64_t> next() {
        if (returned == n) return std::nullopt;  // Python: StopIteration
        for (;;) {
            auto ready = ordered ? early.find(returned) : early.begin();  // imap: only its turn
            if (ready != early.end()) { ++returned; return early.extract(ready).mapped(); }
            for (; sent < n && sent - returned - early.size() < window; ++sent)  // in flight: no reply yet
                send(pool.task_write.get(), Message{sent, sent});
            Message r;
            if (!receive(pool.reply_read.get(), r)) throw std::runtime_error("the workers died");
            early[r.index] = r.value;
        }
    }
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_imap", [] {
        Pool pool(2);
        bool ok = true;
        for (bool ordered : {true, false}) {
            Imap stream{pool, ordered, 20, 4};
            std::int64_t sum = 0, i = 0;
            std::cout << (ordered ? "imap:          " : "imap_unordered:");
            while (auto y = stream.next()) {
                if (i == 0) {  // the proof of laziness: most tasks are not even sent yet
                    std::cout << " (first result after " << stream.sent << " of 20 tasks sent)";
                    ok = ok && stream.sent < 20;
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
