// creation_cost.cpp — how long does it take to start (and finish) a worker?
// std::thread, vfork, fork, posix_spawn, fork+exec, and Python's
// multiprocessing.Process with the fork and spawn start methods, measured in
// the same run on the same machine. Median and [min..max] per creation.
// (fork_page_tables.cpp: why fork gets slower as the parent grows.)
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

void check_errno(int rc, const char* what) {  // posix_spawn* return the error number
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

struct Stats {
    double median, min, max;  // microseconds
};

Stats summarise(std::vector<double> us) {
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us.front(), us.back()};
}

/// Time `n` calls of `once`, each measured on its own.
Stats time_each(int n, const std::function<void()>& once) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        once();
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    return summarise(us);
}

/// Wait for a child that ends by itself (every child here exits at once).
void reap(pid_t pid) {
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("a child failed");
}

// ------------------------------------------------------- the ways to start

void thread_once() { std::thread([] {}).join(); }

void fork_once() {
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) ::_exit(0);
    reap(pid);
}

/// Only the fork() call, as the parent sees it: this is where the kernel
/// copies the page tables. Waiting for the child is left out, because on a
/// busy machine it mostly measures how soon the child gets a CPU.
Stats time_fork_call(int n) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
        if (pid == 0) ::_exit(0);
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        reap(pid);
    }
    return summarise(us);
}

/// Only the std::thread constructor (the clone() call), for the same reason.
Stats time_thread_ctor(int n) {
    std::vector<double> us;
    for (int i = 0; i < n; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        std::thread t([] {});
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
        t.join();
    }
    return summarise(us);
}

void vfork_once() {
    // vfork: the child borrows the parent's memory and the parent sleeps until
    // the child execs or _exits. Nothing else is allowed in the child, not even
    // check(): so test for the child first, and check the result in the parent.
    pid_t pid = ::vfork();
    if (pid == 0) ::_exit(0);
    check(pid, "vfork");
    reap(pid);
}

void posix_spawn_true() {
    char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
    pid_t pid;
    check_errno(::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ), "posix_spawn");
    reap(pid);
}

void fork_exec_true() {
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) {
        ::execl("/bin/true", "true", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    reap(pid);
}

// ----------------------------------------------------------------- Python

// Python measures its own Process(start + join), like time_each() above.
// target=int: a builtin, so the "spawn" child can find it without our script.
constexpr const char* kPythonScript = R"(
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

/// Owns a child: kills and reaps it if it is still running when the scope is left.
struct Child {
    pid_t pid = -1;
    Child() = default;
    Child(const Child&) = delete;
    ~Child() {
        if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

/// Run kPython with `args` via posix_spawn; return its standard output.
std::optional<std::string> run_python(const std::vector<std::string>& args) {
    if (::access(kPython, X_OK) != 0) return std::nullopt;
    Pipe out;
    posix_spawn_file_actions_t fa;
    check_errno(::posix_spawn_file_actions_init(&fa), "posix_spawn_file_actions_init");
    check_errno(::posix_spawn_file_actions_adddup2(&fa, out.fd[1], STDOUT_FILENO), "adddup2");
    std::vector<char*> argv{const_cast<char*>(kPython)};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    Child python;
    int rc = ::posix_spawn(&python.pid, kPython, &fa, nullptr, argv.data(), environ);
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
    reap(std::exchange(python.pid, -1));  // end of file: it has ended, or is ending
    return text;
}

void print_row(const char* how, const Stats& s) {
    std::printf("%-40s %9.1f  [%8.1f .. %9.1f]\n", how, s.median, s.min, s.max);
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
        std::fprintf(stderr, "creation_cost: %s\n", e.what());
        return 1;
    }
}

int run(bool full) {
    const int n = full ? 1000 : 50, n_exec = full ? 300 : 20;
    const int py_fork = full ? 100 : 10, py_spawn = full ? 30 : 3;
    std::printf("mode: %s (%d creations each, %d with exec, Python %d fork / %d spawn; --full for more)\n",
                full ? "full" : "quick", n, n_exec, py_fork, py_spawn);
    std::fflush(stdout);  // every fork below starts with an empty buffer

    std::printf("%-40s %9s  %s\n", "start + wait for one worker", "median us", "[min .. max]");
    Stats thread = time_each(n, thread_once);
    print_row("std::thread + join", thread);
    Stats vfork = time_each(n, vfork_once);
    print_row("vfork + _exit + waitpid", vfork);
    Stats fork = time_each(n, fork_once);
    print_row("fork + _exit + waitpid", fork);
    Stats fork_call = time_fork_call(n);
    Stats thread_ctor = time_thread_ctor(n);
    print_row("std::thread constructor alone", thread_ctor);
    print_row("fork() call alone, small parent", fork_call);
    print_row("posix_spawn /bin/true + waitpid", time_each(n_exec, posix_spawn_true));
    print_row("fork + exec /bin/true + waitpid", time_each(n_exec, fork_exec_true));

    std::optional<Stats> py_fork_stats;
    auto py = run_python({"-c", kPythonScript, std::to_string(py_fork), std::to_string(py_spawn)});
    if (!py) {
        std::printf("%s not found: the Python rows are skipped, not estimated\n", kPython);
    } else {
        std::istringstream lines(*py);
        std::string method;
        Stats s{};
        while (lines >> method >> s.median >> s.min >> s.max) {
            print_row(("Python Process start + join, " + method).c_str(), s);
            if (method == "fork") py_fork_stats = s;
        }
        if (!py_fork_stats) throw std::runtime_error("unexpected output from python3");
    }

    // What the numbers show: ratios to report, not laws to enforce. A busy CPU
    // can delay a thread's start as much as a fork (worst 1.8x seen against the
    // 2x expected), and Python's overhead over a bare fork depends on the machine.
    auto report = [](const char* text, double ratio, double expected) {
        std::printf("%-62s %6.1fx (expected > %.1fx; reported, not enforced)\n", text, ratio, expected);
    };
    std::printf("\n");
    report("a thread is cheaper to create than a process (fork()/thread)", fork_call.median / thread_ctor.median, 2);
    if (py_fork_stats)  // 1.5x-20x seen on machines of one kind
        std::printf("%-62s %6.1fx (reported, not enforced)\n", "Python's Process(fork) / a bare fork",
                    py_fork_stats->median / fork.median);
    return 0;
}
