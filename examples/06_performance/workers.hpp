// workers.hpp — what chapter 6's cpu_bound and io_bound share: the same 8 tasks run by
// n threads or n forked processes, each run timed and checked against the serial result.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

constexpr int kTasks = 8;
constexpr int kWorkerCounts[] = {1, 2, 4};

/// Worker w of n takes tasks w, w+n, w+2n, ... and combines their results.
inline std::uint64_t run_share(const std::function<std::uint64_t(int)>& task, int w, int n) {
    std::uint64_t sum = 0;
    for (int t = w; t < kTasks; t += n) sum += task(t);
    return sum;
}

// ANCHOR: threads
inline std::uint64_t with_threads(const std::function<std::uint64_t(int)>& task, int n) {
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

// ANCHOR_END: threads

// ANCHOR: processes
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

inline std::uint64_t with_processes(const std::function<std::uint64_t(int)>& task, int n) {
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
                if (check(::write(p[1], &part, sizeof part), "write") != sizeof part)
                    throw std::runtime_error("write: short write");
                code = 0;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s worker: %s\n", program_invocation_short_name, e.what());
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
// ANCHOR_END: processes

struct Cell {
    double median, min, max;  // milliseconds
};

/// Time `runs` repetitions; every repetition must produce `expected`.
inline Cell measure(int runs, std::uint64_t expected, const std::function<std::uint64_t()>& job) {
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

inline Table run_table(const char* title, int runs, const std::function<std::uint64_t(int)>& task) {
    std::uint64_t expected = run_share(task, 0, 1);  // the serial answer
    Table t{};
    for (int i = 0; i < 3; ++i) {
        int n = kWorkerCounts[i];
        t.threads[i] = measure(runs, expected, [&] { return with_threads(task, n); });
        t.processes[i] = measure(runs, expected, [&] { return with_processes(task, n); });
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
inline void report_speedup(const char* what, const Cell* cells, int idx, double need, const char* meaning) {
    double s = cells[0].median / cells[idx].median;
    std::printf("%s: %d workers %.2fx faster than 1 (expected >= %.1fx): %s\n", what, kWorkerCounts[idx], s,
                need, s >= need ? meaning : "not shown on this run");
}

// ANCHOR: main
/// main() of cpu_bound and io_bound: no argument (quick) or --full; a failure
/// prints "<program>: <what>" and returns 1, a bad argument the usage and 2.
inline int workers_main(int argc, char** argv, int (*run)(bool full)) {
    bool full = argc == 2 && std::string_view(argv[1]) == "--full";
    if (argc > 1 && !full) {
        std::fprintf(stderr, "usage: %s [--full]\n", argv[0]);
        return 2;
    }
    try {
        return run(full);
    } catch (const std::exception& e) {  // the Worker owners have killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, e.what());
        return 1;
    }
}
// ANCHOR_END: main
