// pool_close.cpp - step 7a: a pool that ends gracefully. close() queues one "stop"
// record per worker behind the tasks (Python's Pool sends None), so each worker
// leaves after the last queued task, and join() returns once the queue has drained.
// End of file alone would not do: a worker forked by another pool may hold a write end.
#include <sys/wait.h>

#include <cstdint>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

constexpr std::int64_t kStop = -1;  // the sentinel that close() queues

class Pool {
public:
    explicit Pool(int n) {  // a throw destroys the members built so far
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        tasks_read_ = Fd(fds[0]), tasks_write_ = Fd(fds[1]);
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) child([this] { return work(); });
            workers_.pids.push_back(pid);
        }
    }
    void submit(std::int64_t ms) {
        if (closed_) throw std::logic_error("submit() after close()");  // Python: ValueError
        send(tasks_write_.get(), ms);
    }
    void close() {  // one stop record per worker, behind the queued tasks
        for (std::size_t i = 0; i < workers_.pids.size(); ++i) send(tasks_write_.get(), kStop);
        closed_ = true;
    }
    int join() {  // after close(): each worker ends by itself; returns how many exited 0
        int clean = 0;
        for (pid_t& p : workers_.pids) {
            int status = 0;
            check(::waitpid(p, &status, 0), "waitpid");
            p = -1;  // reaped: the PID may now belong to someone else
            clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        return clean;
    }

private:
    int work() {  // tasks are "sleep this many ms"; the stop record (or end of file) ends the loop
        std::int64_t ms;
        while (receive(tasks_read_.get(), ms) && ms != kStop) ::usleep(static_cast<useconds_t>(ms * 1000));
        return 0;
    }
    struct Workers {  // a pool left without join(): kill and reap
        std::vector<pid_t> pids;
        ~Workers() { for (pid_t p : pids) if (p > 0 && ::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    };
    Fd tasks_read_, tasks_write_;
    bool closed_ = false;
    Workers workers_;  // last: destroyed first, before the pipe closes
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_close", [] {
        Pool pool(2);
        for (int i = 0; i < 6; ++i) pool.submit(10);
        pool.close();  // no new work; the 6 queued tasks still run
        bool refused = false;
        try { pool.submit(10); } catch (const std::logic_error&) { refused = true; }
        const int clean = pool.join();
        std::cout << "submit() after close(): " << (refused ? "refused" : "ACCEPTED") << '\n'
                  << "close() + join(): " << clean << " of 2 workers exited 0 after the queue drained\n";
        return refused && clean == 2;
    });
}
