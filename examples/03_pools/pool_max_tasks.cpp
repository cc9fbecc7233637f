// pool_max_tasks.cpp - step 6: Pool(2, initializer, maxtasksperchild=3). A new worker
// first runs the initializer; after 3 tasks it says so in its last reply and exits,
// and the parent reaps it and forks a replacement, which runs the initializer again.
#include <poll.h>
#include <sys/wait.h>

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

std::int64_t g_scale = 1;               // per-worker state: 10 once the initializer ran
void initializer() { g_scale = 10; }    // Python: Pool(initializer=..., initargs=...)

struct Reply { std::int64_t value; pid_t pid; bool retiring; };

class Pool {
public:
    Pool(int n, int max_tasks) : max_tasks_(max_tasks) {  // a throw destroys the members
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        tasks_read_ = Fd(fds[0]), tasks_write_ = Fd(fds[1]);
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        replies_read_ = Fd(fds[0]), replies_write_ = Fd(fds[1]);
        for (int i = 0; i < n; ++i) start_worker();
    }
    ~Pool() { for (pid_t p : live_) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    // Runs xs; returns how many tasks each worker pid ran.
    std::map<pid_t, int> map(const std::vector<std::int64_t>& xs, bool& all_initialized) {
        for (std::int64_t x : xs) send(tasks_write_.get(), x);
        std::map<pid_t, int> per_worker;
        all_initialized = true;
        for (std::size_t got = 0; got < xs.size(); ++got) {
            // We keep a write end for future workers, so dead workers give no end of
            // file: bound the wait instead (a task here takes microseconds).
            pollfd pfd{replies_read_.get(), POLLIN, 0};
            if (check(::poll(&pfd, 1, 5000), "poll") == 0) throw std::runtime_error("no reply for 5 s");
            Reply r;
            if (!receive(replies_read_.get(), r)) throw std::runtime_error("all workers died");
            ++per_worker[r.pid];
            all_initialized = all_initialized && r.value % 10 == 0;
            if (r.retiring) {  // it exits by itself right after this reply
                check(::waitpid(r.pid, nullptr, 0), "waitpid");
                live_.erase(r.pid);
                if (got + 1 < xs.size()) start_worker();  // tasks are still queued
            }
        }
        return per_worker;
    }

private:
    void start_worker() {
        std::cout.flush();
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) child([this] {
            tasks_write_.close();
            initializer();
            std::int64_t x;
            for (int done = 1; done <= max_tasks_ && receive(tasks_read_.get(), x); ++done)
                send(replies_write_.get(), Reply{x * g_scale, ::getpid(), done == max_tasks_});
            return 0;
        });
        live_.insert(pid);
    }
    int max_tasks_;
    Fd tasks_read_, tasks_write_, replies_read_, replies_write_;
    std::set<pid_t> live_;  // last: ~Pool() kills these before the pipes close
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_max_tasks", [] {
        Pool pool(2, 3);
        bool initialized = false;
        const auto per_worker = pool.map({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, initialized);
        bool at_most_3 = true;
        for (auto [pid, n] : per_worker) at_most_3 = at_most_3 && n <= 3;
        // At least 12 / 3 = 4. More if a replacement shared the last tasks with its twin.
        const std::size_t workers = per_worker.size();
        std::cout << "12 tasks ran in " << (workers >= 4 ? "at least 4" : "FEWER THAN 4")
                  << " worker processes (" << workers << " this time)\n"
                  << "each ran at most 3 tasks: " << (at_most_3 ? "yes" : "NO") << '\n'
                  << "every task saw the initializer's state: " << (initialized ? "yes" : "NO") << '\n';
        return workers >= 4 && at_most_3 && initialized;
    });
}
