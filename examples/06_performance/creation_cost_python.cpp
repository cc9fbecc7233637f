// creation_cost_python.cpp — Python's multiprocessing.Process, started and joined
// with the fork and the spawn start methods, next to a bare fork() + waitpid() timed
// in the same run. Python times itself the same way: each start + join on its own.
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "run_python.hpp"  // check(), run_python(): Debian's python3, a fixed environment
#include "stats.hpp"       // Stats, time_each()

namespace {

// target=int: a builtin, so the "spawn" child can find it without our script.
constexpr const char* kScript = R"(
import multiprocessing as mp, statistics, sys, time
for method, n in (("fork", int(sys.argv[1])), ("spawn", int(sys.argv[2]))):
    ctx = mp.get_context(method)
    us = []
    for _ in range(n):
        t0 = time.perf_counter()
        p = ctx.Process(target=int)
        p.start()
        p.join()
        us.append((time.perf_counter() - t0) * 1e6)
        if p.exitcode != 0:
            sys.exit("worker failed")
    print(method, statistics.median(us), min(us), max(us))
)";

void print_row(const std::string& how, const Stats& s)
{
    std::printf("%-40s %9.1f  [%8.1f .. %9.1f]\n", how.c_str(), s.median, s.min, s.max);
}

}  // namespace

int run(bool full)
{
    const int n = full ? 1000 : 50, py_fork = full ? 100 : 10, py_spawn = full ? 30 : 3;
    std::printf("mode: %s (%d bare forks, Python %d fork / %d spawn; --full for more)\n",
                full ? "full" : "quick", n, py_fork, py_spawn);
    std::fflush(stdout);  // every fork below starts with an empty buffer
    std::printf("%-40s %9s  %s\n", "start + wait for one worker", "median us", "[min .. max]");
    Stats fork = time_each(n, [] {  // a bare fork: what Python's Process adds to
        pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
        if (pid == 0) ::_exit(0);
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");
        if (status != 0) throw std::runtime_error("a child failed");
    });
    print_row("fork + _exit + waitpid", fork);

    std::istringstream lines(run_python(kScript, {std::to_string(py_fork), std::to_string(py_spawn)}));
    std::string method;
    Stats python_fork{};
    for (Stats s{}; lines >> method >> s.median >> s.min >> s.max;) {
        print_row("Python Process start + join, " + method, s);
        if (method == "fork") python_fork = s;
    }
    if (python_fork.median <= 0) throw std::runtime_error("python3: no figures");
    // 1.5x to 20x seen on machines of one kind: reported, never judged.
    std::printf("\n%-40s %6.1fx (reported, not enforced)\n", "Python's Process(fork) / a bare fork",
                python_fork.median / fork.median);
    return 0;
}

int main(int argc, char** argv)
{
    bool full = argc == 2 && std::string_view(argv[1]) == "--full";
    if (argc > 1 && !full) {
        std::fprintf(stderr, "usage: %s [--full]\n", argv[0]);
        return 2;
    }
    try {
        return run(full);
    } catch (const std::exception& e) {  // run_python's owner has killed and reaped Python
        std::fflush(stdout);
        std::fprintf(stderr, "creation_cost_python: %s\n", e.what());
        return 1;
    }
}
