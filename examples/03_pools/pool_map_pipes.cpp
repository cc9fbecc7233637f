// pool_map_pipes.cpp - step 1 of the chapter's pool: the smallest map().
// N forked workers share one task pipe and one result pipe, as Python's Pool shares
// its inqueue and outqueue. Every record is 8 bytes (<= PIPE_BUF), so each write and
// each read moves one whole record even with several readers. Results come back in
// the order the workers finish them; step 2 (pool_ordered) puts them in input order.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace {
int check(int rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Pipe {  // owns both ends; drop() closes one early
    Pipe() { check(::pipe2(fd, O_CLOEXEC), "pipe2"); }
    ~Pipe() { drop(0); drop(1); }
    void drop(int end) { if (fd[end] != -1) ::close(fd[end]); fd[end] = -1; }
    int fd[2];
};

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
    while (::read(tasks, &x, sizeof x) == sizeof x) {
        const std::int64_t y = square(x);
        if (::write(results, &y, sizeof y) != sizeof y) return 1;
    }
    return 0;
}

std::vector<std::int64_t> map(int nworkers, const std::vector<std::int64_t>& xs) {
    Pipe tasks, results;
    Workers workers;
    for (int i = 0; i < nworkers; ++i) {
        std::cout.flush();  // else the child inherits our buffer and prints it again
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the child ends here: no exception can leave worker()
            tasks.drop(1);  // or no worker would ever see end of file
            _exit(worker(tasks.fd[0], results.fd[1]));
        }
        workers.pids.push_back(pid);
    }
    for (std::int64_t x : xs)  // all at once: the 64 KiB pipe holds 8192 tasks
        check(static_cast<int>(::write(tasks.fd[1], &x, sizeof x)), "write");  // whole
    tasks.drop(1);    // end of file after the last task: the workers' "stop"
    results.drop(1);  // if every worker dies, read() returns 0: no hang
    std::vector<std::int64_t> out;
    while (out.size() < xs.size()) {
        std::int64_t y;
        if (check(static_cast<int>(::read(results.fd[0], &y, sizeof y)), "read") == 0)
            throw std::runtime_error("the workers died before the last result");
        out.push_back(y);
    }
    while (!workers.pids.empty()) {  // they end by themselves at end of file
        int status = 0;
        check(::waitpid(workers.pids.back(), &status, 0), "waitpid");
        workers.pids.pop_back();  // reaped: its pid may be someone else's now
        if (status != 0) throw std::runtime_error("a worker failed");
    }
    return out;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        std::vector<std::int64_t> ys = map(3, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        std::cout << "map(square, 0..11) with 3 workers, in arrival order:";
        for (std::int64_t y : ys) std::cout << ' ' << y;
        std::sort(ys.begin(), ys.end());  // the squares of 0..11 are in increasing order
        bool all = ys.size() == 12;
        for (std::size_t i = 0; all && i < ys.size(); ++i) all = ys[i] == std::int64_t(i * i);
        std::cout << "\nevery square arrived once: " << (all ? "yes" : "NO") << '\n';
        return all ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pool_map_pipes: " << e.what() << '\n';
        return 1;
    }
}
