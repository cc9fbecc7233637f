// pool_map_pipes.cpp - step 1 of the chapter's pool: the smallest map().
// N forked workers share one task pipe and one result pipe, as Python's Pool shares
// its inqueue and outqueue. Every record is 8 bytes (<= PIPE_BUF), so each write and
// each read moves one whole record even with several readers. Results come back in
// the order the workers finish them; step 2 (pool_ordered) puts them in input order.
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run: shown on this page
using namespace step;

struct Workers {  // owns the children: kills and reaps those still running
    std::vector<pid_t> pids;
    ~Workers() { for (pid_t p : pids) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
};

std::int64_t square(std::int64_t x) {
    ::usleep(static_cast<useconds_t>((12 - x) * 2000));  // early tasks are slow
    return x * x;
}

// The worker: read a task, run it, write its result, until end of file.
int worker(int tasks, int results) {
    std::int64_t x;
    while (receive(tasks, x)) send(results, square(x));
    return 0;
}

std::vector<std::int64_t> map(int nworkers, const std::vector<std::int64_t>& xs) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd tasks_read(fds[0]), tasks_write(fds[1]);
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd results_read(fds[0]), results_write(fds[1]);
    Workers workers;
    for (int i = 0; i < nworkers; ++i) {
        std::cout.flush();  // else the child inherits our buffer and prints it again
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) child([&] {
            tasks_write.close();  // or no worker would ever see end of file
            return worker(tasks_read.get(), results_write.get());
        });
        workers.pids.push_back(pid);
    }
    for (std::int64_t x : xs) send(tasks_write.get(), x);  // the 64 KiB pipe holds 8192
    tasks_write.close();    // end of file after the last task: the workers' "stop"
    results_write.close();  // if every worker dies, read() returns 0: no hang
    std::vector<std::int64_t> out;
    for (std::int64_t y; out.size() < xs.size(); out.push_back(y))
        if (!receive(results_read.get(), y)) throw std::runtime_error("the workers died before the last result");
    while (!workers.pids.empty()) {  // they end by themselves at end of file
        int status = 0;
        check(::waitpid(workers.pids.back(), &status, 0), "waitpid");
        workers.pids.pop_back();  // reaped: its pid may be someone else's now
        if (status != 0) throw std::runtime_error("a worker failed");
    }
    return out;
}

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_map_pipes", [] {
        std::vector<std::int64_t> ys = map(3, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        std::cout << "map(square, 0..11) with 3 workers, in arrival order:";
        for (std::int64_t y : ys) std::cout << ' ' << y;
        std::sort(ys.begin(), ys.end());  // the squares of 0..11 are in increasing order
        bool all = ys.size() == 12;
        for (std::size_t i = 0; all && i < ys.size(); ++i) all = ys[i] == std::int64_t(i * i);
        std::cout << "\nevery square arrived once: " << (all ? "yes" : "NO") << '\n';
        return all;
    });
}
