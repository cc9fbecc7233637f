// python_comparison.cpp — the cost of handing out tasks: a small fork-based C++
// process pool against Python's multiprocessing Pool.map, same trivial task,
// same number of workers, same machine, same run. Python is started by this
// program (posix_spawn of /usr/bin/python3) and times itself the same way.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

void check_errno(int rc, const char* what) {  // posix_spawn* return the error number
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

void write_exact(int fd, const void* p, std::size_t n) {
    if (check(::write(fd, p, n), "write") != static_cast<long>(n)) throw std::runtime_error("write: short write");
}

/// Owns a child: kills and reaps it if it is still running when the scope is left.
struct Child {
    pid_t pid = -1;
    Child() = default;
    explicit Child(pid_t p) : pid(p) {}
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    Child(const Child&) = delete;
    ~Child() {
        if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

/// The task both languages run: trivial on purpose, so that what we time is
/// the pool's cost of handing out a task and collecting its result.
std::int64_t task(std::int64_t x) { return x * x + 1; }

/// A task message: the range of indices [begin, end). A result message:
/// {begin, worker}, saying which range is done and who is free again.
/// 8 bytes is far below PIPE_BUF, so every write is atomic: several workers
/// can write to one result pipe and the parent never reads half a message.
struct Chunk {
    std::uint32_t begin, end;
};
struct Done {
    std::uint32_t begin, worker;
};

/// A minimal process pool for map(): N forked workers, each with its own task
/// pipe, all writing to one result pipe. Inputs and outputs live in a shared
/// mapping, so a message only says which indices to process or are ready.
class ForkPool {
public:
    /// batch_reads: a worker takes every task message waiting in its pipe with
    /// one read(); without it, one read() per message (to show the difference).
    ForkPool(int workers, std::size_t capacity, bool batch_reads) : capacity_(capacity), batch_(batch_reads) {
        void* p = ::mmap(nullptr, 2 * capacity * sizeof(std::int64_t), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        in_ = static_cast<std::int64_t*>(p);
        out_ = in_ + capacity;
        int r[2] = {-1, -1};
        try {  // the destructor does not run for a constructor that throws: clean up here
            check(::pipe(r), "pipe");
            results_r_ = r[0];
            for (int i = 0; i < workers; ++i) start_worker(static_cast<std::uint32_t>(i), r);
        } catch (...) {
            if (r[1] >= 0) ::close(r[1]);
            shut_down();
            throw;
        }
        ::close(r[1]);  // only workers hold it now: all dead means end of file
    }
    ForkPool(const ForkPool&) = delete;
    ForkPool& operator=(const ForkPool&) = delete;

    ~ForkPool() { shut_down(); }

    /// results[i] = task(inputs[i]), handing out `chunk` inputs per message.
    std::vector<std::int64_t> map(const std::vector<std::int64_t>& inputs, std::uint32_t chunk) {
        const auto n = static_cast<std::uint32_t>(inputs.size());
        if (n > capacity_) throw std::invalid_argument("map: too many inputs");
        std::copy(inputs.begin(), inputs.end(), in_);
        // Each worker gets up to kQueued messages ahead; whoever reports back
        // is topped up first, so a slow worker simply receives fewer tasks.
        // The parent batches its system calls too: one write() carries many
        // task messages, one read() collects every result waiting. kQueued keeps
        // both pipes below their capacity: nobody can block anybody forever.
        constexpr std::uint32_t kQueued = 256;
        std::vector<std::uint32_t> queued(tasks_w_.size(), 0);
        std::uint32_t sent = 0, done = 0;
        std::vector<Chunk> batch;
        auto top_up = [&](std::size_t w) {
            batch.clear();
            for (; queued[w] < kQueued && sent < n; ++queued[w]) {
                batch.push_back(Chunk{sent, std::min(n, sent + chunk)});
                sent = batch.back().end;
            }
            if (!batch.empty()) write_exact(tasks_w_[w], batch.data(), batch.size() * sizeof(Chunk));
        };
        for (std::size_t w = 0; w < tasks_w_.size(); ++w) top_up(w);
        Done finished[512];
        while (done < n) {
            // A bounded wait: a worker that died while others still hold the
            // result pipe open would otherwise leave us waiting for ever.
            pollfd pfd{results_r_, POLLIN, 0};
            if (check(::poll(&pfd, 1, 10'000), "poll") == 0) throw std::runtime_error("no result for 10 s");
            ssize_t r = check(::read(results_r_, finished, sizeof finished), "read");
            if (r == 0) throw std::runtime_error("every worker died");
            for (std::size_t k = 0; k < static_cast<std::size_t>(r) / sizeof(Done); ++k) {
                done += std::min(n, finished[k].begin + chunk) - finished[k].begin;
                --queued[finished[k].worker];
            }
            for (std::size_t w = 0; w < tasks_w_.size(); ++w)
                if (queued[w] <= kQueued / 2) top_up(w);
        }
        return {out_, out_ + n};
    }

private:
    void start_worker(std::uint32_t me, const int results[2]) {
        int t[2];
        check(::pipe(t), "pipe");
        std::fflush(stdout);  // unflushed output would be printed twice
        Child worker(static_cast<pid_t>(check(::fork(), "fork")));
        if (worker.pid == 0) {  // the worker ends here, whatever happens: never in main's code
            ::close(t[1]), ::close(results[0]);
            for (int w : tasks_w_) ::close(w);  // earlier workers' task pipes
            int code = 0;
            try {
                work(me, t[0], results[1]);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "python_comparison worker: %s\n", e.what());
                code = 1;
            }
            ::_exit(code);
        }
        ::close(t[0]);
        tasks_w_.push_back(t[1]);
        workers_.push_back(std::move(worker));
    }

    /// End of file on its task pipe makes a worker return; the Child owners
    /// then kill and reap any that has not.
    void shut_down() {
        for (int w : tasks_w_) ::close(w);
        tasks_w_.clear();
        if (results_r_ >= 0) ::close(results_r_);
        results_r_ = -1;
        for (auto& w : workers_) {
            int status = 0;
            if (w.pid > 0 && ::waitpid(w.pid, &status, 0) == w.pid) w.pid = -1;
        }
        workers_.clear();
        ::munmap(in_, 2 * capacity_ * sizeof(std::int64_t));
    }

    void work(std::uint32_t me, int tasks, int results) {
        // One read() takes every task message waiting (each is still its own
        // task), one write() reports their results: two system calls per
        // batch instead of per task. Messages stay whole: every write to the
        // pipe is a whole number of 8-byte messages, so every read is too.
        Chunk got[64];
        Done done[64];
        for (;;) {
            ssize_t r = check(::read(tasks, got, batch_ ? sizeof got : sizeof got[0]), "read");
            if (r == 0) return;  // end of file: the pool is shutting down
            std::size_t k = static_cast<std::size_t>(r) / sizeof(Chunk);
            for (std::size_t j = 0; j < k; ++j) {
                for (auto i = got[j].begin; i < got[j].end; ++i) out_[i] = task(in_[i]);
                done[j] = Done{got[j].begin, me};
            }
            write_exact(results, done, k * sizeof(Done));  // the pipe also publishes out_[...]
        }
    }

    std::size_t capacity_;
    bool batch_;
    std::int64_t *in_, *out_;
    std::vector<int> tasks_w_;
    int results_r_ = -1;
    std::vector<Child> workers_;
};

struct Stats {
    double median, min, max;  // microseconds per task
};

Stats summarise(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return {v[v.size() / 2], v.front(), v.back()};
}

Stats time_cpp_map(ForkPool& pool, const std::vector<std::int64_t>& inputs, std::uint32_t chunk, int runs) {
    pool.map(inputs, chunk);  // warm-up: page faults, first wake-ups
    std::vector<double> per_task;
    for (int r = 0; r < runs; ++r) {
        auto t0 = std::chrono::steady_clock::now();
        auto out = pool.map(inputs, chunk);
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        per_task.push_back(us / static_cast<double>(inputs.size()));
        for (std::size_t i = 0; i < inputs.size(); ++i)
            if (out[i] != task(inputs[i])) throw std::runtime_error("C++ pool returned a wrong result");
    }
    return summarise(per_task);
}

// ----------------------------------------------------------------- Python

// The same measurement in Python: a warm pool, the same task, map timed per
// call, results checked. Fork start method, like the C++ pool.
constexpr const char* kPythonScript = R"(
import multiprocessing as mp, statistics, sys, time
def task(x):
    return x * x + 1
if __name__ == "__main__":
    n, workers, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    inputs = list(range(n))
    expected = [task(x) for x in inputs]
    with mp.get_context("fork").Pool(workers) as pool:
        for chunk in (1, 256):
            pool.map(task, inputs, chunksize=chunk)
            us = []
            for _ in range(runs):
                t0 = time.perf_counter()
                out = pool.map(task, inputs, chunksize=chunk)
                us.append((time.perf_counter() - t0) * 1e6 / n)
                if out != expected:
                    sys.exit("wrong result")
            print(chunk, statistics.median(us), min(us), max(us))
)";

constexpr const char* kPython = "/usr/bin/python3";

/// An owned pipe: both ends closed when it goes out of scope.
struct Pipe {
    int fd[2];
    Pipe() { check(::pipe2(fd, O_CLOEXEC), "pipe2"); }
    Pipe(const Pipe&) = delete;
    ~Pipe() { close_write(), ::close(fd[0]); }
    void close_write() {
        if (fd[1] >= 0) ::close(fd[1]), fd[1] = -1;
    }
};

/// Run kPython with `args`; its standard output, or nullopt if it is absent.
std::optional<std::string> run_python(const std::vector<std::string>& args) {
    if (::access(kPython, X_OK) != 0) return std::nullopt;
    Pipe out;
    posix_spawn_file_actions_t fa;
    check_errno(::posix_spawn_file_actions_init(&fa), "posix_spawn_file_actions_init");
    check_errno(::posix_spawn_file_actions_adddup2(&fa, out.fd[1], STDOUT_FILENO), "adddup2");
    std::vector<char*> argv{const_cast<char*>(kPython)};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // Python gets a fixed environment, not ours: PYTHON* variables (PYTHONMALLOC=debug,
    // PYTHONDEVMODE=1, ...) would change what is timed, and an LD_PRELOAD library would
    // run inside it (the fault tests' shim is meant for this program's calls, not CPython's).
    char* python_env[] = {const_cast<char*>("PATH=/usr/bin:/bin"), const_cast<char*>("LC_ALL=C.UTF-8"),
                          nullptr};
    Child python;
    int rc = ::posix_spawn(&python.pid, kPython, &fa, nullptr, argv.data(), python_env);
    ::posix_spawn_file_actions_destroy(&fa);
    out.close_write();  // now end of file means "Python has finished (or died)"
    check_errno(rc, "posix_spawn python3");
    std::string text;
    char buf[4096];
    for (ssize_t r; (r = ::read(out.fd[0], buf, sizeof buf)) != 0;) {
        if (r == -1 && errno == EINTR) continue;
        check(r, "read");
        text.append(buf, static_cast<std::size_t>(r));
    }
    int status = 0;
    check(::waitpid(std::exchange(python.pid, -1), &status, 0), "waitpid");  // it has ended, or is ending
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("python3 failed");
    return text;
}

/// Python's per-task times at chunk size 1 and 256, or nullopt without Python.
std::optional<std::pair<Stats, Stats>> time_python_map(int n, int workers, int runs) {
    auto py = run_python({"-c", kPythonScript, std::to_string(n), std::to_string(workers), std::to_string(runs)});
    if (!py) return std::nullopt;
    std::istringstream lines(*py);
    Stats py1{}, py256{};
    int chunk;
    for (Stats s{}; lines >> chunk >> s.median >> s.min >> s.max;) (chunk == 1 ? py1 : py256) = s;
    if (py1.median <= 0 || py256.median <= 0) throw std::runtime_error("unexpected output from python3");
    return std::pair{py1, py256};
}

void print_row(const std::string& who, const Stats& s) {
    std::printf("%-40s %8.3f  [%7.3f .. %7.3f]\n", who.c_str(), s.median, s.min, s.max);
}

}  // namespace

int run(bool full);

int main(int argc, char** argv) {
    bool full = false;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--full") {
            full = true;
        } else {
            std::fprintf(stderr, "usage: %s [--full]\n", argv[0]);
            return 2;
        }
    }
    try {
        return run(full);
    } catch (const std::exception& e) {  // the owners have killed and reaped their children
        std::fflush(stdout);
        std::fprintf(stderr, "python_comparison: %s\n", e.what());
        return 1;
    }
}

int run(bool full) {
    // C++ runs are cheap, so take more of them: a single preemption by another
    // program can otherwise decide a median.
    const int n = full ? 50000 : 5000, workers = 2, runs = full ? 7 : 3, cpp_runs = full ? 21 : 11;
    std::printf("mode: %s (%d trivial tasks per map, %d workers, median of %d C++ / %d Python runs%s)\n",
                full ? "full" : "quick", n, workers, cpp_runs, runs,
                full ? "" : "; --full for more");

    std::vector<std::int64_t> inputs(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) inputs[static_cast<std::size_t>(i)] = i;
    Stats cpp1_unbatched, cpp1, cpp256;
    {
        ForkPool pool(workers, inputs.size(), false);
        cpp1_unbatched = time_cpp_map(pool, inputs, 1, cpp_runs);
    }
    {
        ForkPool pool(workers, inputs.size(), true);
        cpp1 = time_cpp_map(pool, inputs, 1, cpp_runs);
        cpp256 = time_cpp_map(pool, inputs, 256, cpp_runs);
    }
    std::printf("%-40s %8s  %s\n", "map(x -> x*x + 1)", "us/task", "[min .. max]");
    print_row("C++ pool, chunk size 1, read per task", cpp1_unbatched);
    print_row("C++ pool, chunk size 1", cpp1);
    print_row("C++ pool, chunk size 256", cpp256);

    auto py = time_python_map(n, workers, runs);
    if (!py) {
        std::printf("%s not found: no Python figures, and no ratio (nothing is estimated)\n", kPython);
        return 0;
    }
    auto [py1, py256] = *py;
    print_row("Python Pool.map, chunksize=1", py1);
    print_row("Python Pool.map, chunksize=256", py256);
    std::printf("every map in both languages returned all %d results, correct and in order\n\n", n);

    double ratio1 = py1.median / cpp1.median, ratio256 = py256.median / cpp256.median;
    bool met = ratio1 >= 20;
    std::printf("per-task overhead, Python / C++ at chunk size 1: %.0fx (target >= 20x): %s\n", ratio1,
                met ? "met" : "NOT met");
    std::printf("per-task overhead, Python / C++ at chunk size 1 with a read per task: %.0fx\n",
                py1.median / cpp1_unbatched.median);
    std::printf("per-task overhead, Python / C++ at chunk size 256: %.0fx\n", ratio256);
    std::printf("the target is reported, not enforced: the same figure varies 3x between machines\n");
    return 0;
}
