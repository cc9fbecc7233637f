// cpu_vs_io_bound.cpp — the same 8 tasks run by 1, 2 and 4 workers, as threads
// and as processes, once as arithmetic (CPU-bound) and once as waiting on a
// pipe (I/O-bound). Wall time: median and [min..max] over several runs.
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <time.h>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

constexpr int kTasks = 8;
constexpr int kWorkerCounts[] = {1, 2, 4};

struct Config {
    bool full = false;
    int runs = 3;                        // runs per cell; we report the median
    std::uint64_t cpu_steps = 6'000'000;  // arithmetic steps per task
    int wait_ms = 40;                    // how long one I/O-bound task waits
};

// ------------------------------------------------------------------ tasks

/// CPU-bound task: a chain of multiply-xorshift steps. Each step needs the
/// previous result, so the compiler cannot skip or vectorise the work.
std::uint64_t cpu_task(int task, std::uint64_t steps) {
    std::uint64_t x = 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(task + 1);
    for (std::uint64_t i = 0; i < steps; ++i) {
        x ^= x >> 29;
        x *= 0xbf58476d1ce4e5b9ULL;
    }
    return x;
}

/// The read end of a pipe nobody writes to: poll() on it blocks for the full
/// timeout, in the kernel, like a read from a slow disk or network peer.
int idle_pipe_fd() {
    static int fd = [] {
        int p[2];
        check(::pipe(p), "pipe");
        return p[0];  // both ends stay open for the life of the program
    }();
    return fd;
}

std::uint64_t io_task(int task, int wait_ms) {
    pollfd pfd{idle_pipe_fd(), POLLIN, 0};
    if (check(::poll(&pfd, 1, wait_ms), "poll") != 0) throw std::runtime_error("poll: the idle pipe became readable");
    return static_cast<std::uint64_t>(task);
}

/// Worker w of n takes tasks w, w+n, w+2n, ... and combines their results.
std::uint64_t run_share(const std::function<std::uint64_t(int)>& task, int w, int n) {
    std::uint64_t sum = 0;
    for (int t = w; t < kTasks; t += n) sum += task(t);
    return sum;
}

// ---------------------------------------------------------------- workers

std::uint64_t with_threads(const std::function<std::uint64_t(int)>& task, int n) {
    std::vector<std::uint64_t> part(static_cast<std::size_t>(n));
    {
        std::vector<std::jthread> workers;  // jthread joins in its destructor
        for (int w = 0; w < n; ++w)
            workers.emplace_back([&, w] { part[static_cast<std::size_t>(w)] = run_share(task, w, n); });
    }
    std::uint64_t sum = 0;
    for (auto p : part) sum += p;
    return sum;
}

void write_all(int fd, const void* p, std::size_t n) {
    if (check(::write(fd, p, n), "write") != static_cast<long>(n)) throw std::runtime_error("write: short write");
}

/// A worker process and the read end of its result pipe. If it is still
/// running when the owner goes out of scope (an error), it is killed and reaped.
struct Worker {
    pid_t pid = -1;
    int result_fd = -1;
    Worker() = default;
    Worker(Worker&& o) noexcept : pid(std::exchange(o.pid, -1)), result_fd(std::exchange(o.result_fd, -1)) {}
    Worker(const Worker&) = delete;
    ~Worker() {
        if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        if (result_fd >= 0) ::close(result_fd);
    }
};

std::uint64_t with_processes(const std::function<std::uint64_t(int)>& task, int n) {
    // Each child sends its 8-byte partial result back through its own pipe.
    std::vector<Worker> workers(static_cast<std::size_t>(n));
    for (int w = 0; w < n; ++w) {
        int p[2];
        check(::pipe(p), "pipe");
        workers[static_cast<std::size_t>(w)].result_fd = p[0];
        std::fflush(stdout);  // unflushed output would be printed twice
        pid_t pid = ::fork();
        if (pid == -1) ::close(p[1]);
        workers[static_cast<std::size_t>(w)].pid = static_cast<pid_t>(check(pid, "fork"));
        if (pid == 0) {  // the child ends here, whatever happens: never in main's code
            int code = 1;
            try {
                std::uint64_t part = run_share(task, w, n);
                write_all(p[1], &part, sizeof part);
                code = 0;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "cpu_vs_io_bound worker: %s\n", e.what());
            }
            ::_exit(code);
        }
        ::close(p[1]);  // only the child holds it now: a dead child means end of file
    }
    std::uint64_t sum = 0;
    bool ok = true;
    for (Worker& w : workers) {  // read and reap every child, even after a failure
        std::uint64_t part = 0;
        ok = check(::read(w.result_fd, &part, sizeof part), "read") == sizeof part && ok;
        sum += part;
        int status = 0;
        check(::waitpid(std::exchange(w.pid, -1), &status, 0), "waitpid");  // it has written, or died
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    if (!ok) throw std::runtime_error("a worker process failed");
    return sum;
}

// ------------------------------------------------------------ measurement

struct Cell {
    double median, min, max;  // milliseconds
};

/// Time `runs` repetitions; every repetition must produce `expected`.
Cell measure(int runs, std::uint64_t expected, const std::function<std::uint64_t()>& job) {
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        std::uint64_t got = job();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        if (got != expected)
            throw std::runtime_error("wrong result " + std::to_string(got) + ", expected " + std::to_string(expected));
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front(), ms.back()};
}

struct Table {
    Cell threads[3], processes[3];  // indexed like kWorkerCounts
};

Table run_table(const char* title, const Config& cfg, const std::function<std::uint64_t(int)>& task) {
    std::uint64_t expected = run_share(task, 0, 1);  // the serial answer
    Table t{};
    for (int i = 0; i < 3; ++i) {
        int n = kWorkerCounts[i];
        t.threads[i] = measure(cfg.runs, expected, [&] { return with_threads(task, n); });
        t.processes[i] = measure(cfg.runs, expected, [&] { return with_processes(task, n); });
    }
    std::printf("%s\n", title);
    std::printf("  workers   threads: median [min..max] ms    processes: median [min..max] ms\n");
    for (int i = 0; i < 3; ++i)
        std::printf("  %7d   %7.1f [%6.1f..%6.1f]            %7.1f [%6.1f..%6.1f]\n", kWorkerCounts[i],
                    t.threads[i].median, t.threads[i].min, t.threads[i].max, t.processes[i].median,
                    t.processes[i].min, t.processes[i].max);
    return t;
}

/// Print "speed-up of `a` workers over 1" and whether it reaches `need`. Reported,
/// never enforced: a speed-up can be at most the worker count, so no threshold
/// below it holds with a wide margin on every machine.
void report_speedup(const char* what, const Cell* cells, int idx, double need, const char* meaning) {
    double s = cells[0].median / cells[idx].median;
    std::printf("%s: %d workers %.2fx faster than 1 (expected >= %.1fx): %s\n", what, kWorkerCounts[idx], s,
                need, s >= need ? meaning : "not shown on this run");
}

/// How many CPUs' worth of time we actually get right now: spin one thread per
/// usable CPU for a while and divide the CPU time we received by the wall time.
/// On a machine busy with other work this is well below the CPU count, and no
/// program can then show its full parallel speed-up.
double available_parallelism(int cpus) {
    auto cpu_now = [] {
        timespec ts{};
        check(::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), "clock_gettime");
        return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    };
    double cpu0 = cpu_now();
    auto t0 = std::chrono::steady_clock::now();
    {
        std::vector<std::jthread> spinners;
        for (int i = 0; i < cpus; ++i)
            spinners.emplace_back([t0] {
                while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200)) {
                }
            });
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return (cpu_now() - cpu0) / wall;
}

int usable_cpus() {
    cpu_set_t set;
    check(::sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
    return CPU_COUNT(&set);
}

}  // namespace

int run(const Config& cfg);

int main(int argc, char** argv) {
    Config cfg;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--full") {
            cfg = Config{true, 9, 20'000'000, 50};
        } else {
            std::fprintf(stderr, "usage: %s [--full]\n", argv[0]);
            return 2;
        }
    }
    try {
        return run(cfg);
    } catch (const std::exception& e) {  // the Worker owners have killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "cpu_vs_io_bound: %s\n", e.what());
        return 1;
    }
}

int run(const Config& cfg) {
    int cpus = usable_cpus();
    std::printf("mode: %s (%d runs per cell; --full for more and longer runs)\n", cfg.full ? "full" : "quick",
                cfg.runs);
    double avail = available_parallelism(cpus);
    bool quiet = avail >= 0.85 * cpus;
    std::printf("usable CPUs (sched_getaffinity): %d; CPU time we could get: %.2f CPUs (%s)\n\n", cpus, avail,
                quiet ? "machine quiet" : "machine busy with other work");

    Table cpu = run_table("CPU-bound: 8 tasks of pure arithmetic", cfg,
                          [&](int t) { return cpu_task(t, cfg.cpu_steps); });
    // Probe again: the CPUs must have stayed free for the whole CPU-bound table.
    avail = std::min(avail, available_parallelism(cpus));
    quiet = avail >= 0.85 * cpus;
    Table io = run_table("I/O-bound: 8 tasks that each wait on a pipe", cfg,
                         [&](int t) { return io_task(t, cfg.wait_ms); });
    std::printf("\nevery run of every cell returned the serial result\n");

    if (cpus >= 2 && quiet) {  // parallel speed-up needs a second CPU that is free
        report_speedup("CPU-bound, threads  ", cpu.threads, 1, 1.3, "threads compute in parallel");
        report_speedup("CPU-bound, processes", cpu.processes, 1, 1.3, "processes compute in parallel");
    } else {
        std::printf("CPU-bound speed-up not judged: only %.2f CPUs were free for this run\n", avail);
    }
    // Beyond the CPU count, extra CPU-bound workers only take turns.
    std::printf("CPU-bound, threads: 4 workers vs 2: %.2fx (no gain expected past %d CPUs)\n",
                cpu.threads[1].median / cpu.threads[2].median, cpus);
    // Waiting does not occupy a CPU, so it overlaps even with more workers than CPUs.
    report_speedup("I/O-bound, threads  ", io.threads, 2, 2.5, "waits overlap beyond the CPU count");
    report_speedup("I/O-bound, processes", io.processes, 2, 2.5, "waits overlap beyond the CPU count");
    return 0;  // every cell was checked against the serial result above
}
