// pool_max_tasks.cpp - step 6: Pool(2, initializer, maxtasksperchild=3). A new worker
// first runs the initializer; after 3 tasks it says so in its last reply and exits,
// and the parent reaps it and forks a replacement, which runs the initializer again.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace {
int check(int rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

std::int64_t g_scale = 1;               // per-worker state: 10 once the initializer ran
void initializer() { g_scale = 10; }    // Python: Pool(initializer=..., initargs=...)

struct Reply { std::int64_t value; pid_t pid; bool retiring; };

class Pool {
public:
    Pool(int n, int max_tasks) : Pool(max_tasks) {  // delegating: if this throws, ~Pool() runs
        check(::pipe2(tasks_, O_CLOEXEC), "pipe2");
        check(::pipe2(replies_, O_CLOEXEC), "pipe2");
        for (int i = 0; i < n; ++i) start_worker();
    }
    ~Pool() {
        for (pid_t p : live_) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
        for (int fd : {tasks_[0], tasks_[1], replies_[0], replies_[1]}) if (fd != -1) ::close(fd);
    }
    // Runs xs; returns how many tasks each worker pid ran.
    std::map<pid_t, int> map(const std::vector<std::int64_t>& xs, bool& all_initialized) {
        for (std::int64_t x : xs) check(static_cast<int>(::write(tasks_[1], &x, sizeof x)), "write");
        std::map<pid_t, int> per_worker;
        all_initialized = true;
        for (std::size_t got = 0; got < xs.size(); ++got) {
            // We keep a write end for future workers, so dead workers give no end of
            // file: bound the wait instead (a task here takes microseconds).
            pollfd pfd{replies_[0], POLLIN, 0};
            if (check(::poll(&pfd, 1, 5000), "poll") == 0) throw std::runtime_error("no reply for 5 s");
            Reply r;
            if (check(static_cast<int>(::read(replies_[0], &r, sizeof r)), "read") == 0)
                throw std::runtime_error("all workers died");
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
    explicit Pool(int max_tasks) : max_tasks_(max_tasks) {}
    void start_worker() {
        std::cout.flush();
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the worker ends here, whatever happens
            ::close(tasks_[1]);
            initializer();
            std::int64_t x;
            for (int done = 1; done <= max_tasks_ && ::read(tasks_[0], &x, sizeof x) == sizeof x; ++done) {
                const Reply r{x * g_scale, ::getpid(), done == max_tasks_};
                if (::write(replies_[1], &r, sizeof r) != sizeof r) _exit(1);
            }
            _exit(0);
        }
        live_.insert(pid);
    }
    int max_tasks_;
    int tasks_[2]{-1, -1}, replies_[2]{-1, -1};
    std::set<pid_t> live_;
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        Pool pool(2, 3);
        bool initialized = false;
        const auto per_worker = pool.map({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, initialized);
        bool at_most_3 = true;
        for (auto [pid, n] : per_worker) at_most_3 = at_most_3 && n <= 3;
        std::cout << "12 tasks ran in " << per_worker.size() << " worker processes (expected 4)\n"
                  << "each ran at most 3 tasks: " << (at_most_3 ? "yes" : "NO") << '\n'
                  << "every task saw the initializer's state: " << (initialized ? "yes" : "NO") << '\n';
        return per_worker.size() == 4 && at_most_3 && initialized ? 0 : 1;
    } catch (const std::exception& e) {  // main catches: the call's name and errno
        std::cerr << "pool_max_tasks: " << e.what() << '\n';
        return 1;
    }
}
