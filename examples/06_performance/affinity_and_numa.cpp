// affinity_and_numa.cpp — which CPUs may we use, and what does pinning a
// process to a CPU (sched_setaffinity) change? (numa_layout.cpp: the memory.)
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

using Clock = std::chrono::steady_clock;

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    check(::sched_getaffinity(0, sizeof set, &set), "sched_getaffinity");
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    return cpus;
}

void pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    check(::sched_setaffinity(0, sizeof set, &set), "sched_setaffinity");  // 0 = this process
}

/// A forked child that runs `fn` and exits with its return value. Killed and
/// reaped if it is still running when its owner goes out of scope.
class Child {
public:
    Child(int (*fn)(int), int arg) {
        std::fflush(stdout);  // unflushed output would be printed twice
        pid_ = static_cast<pid_t>(check(::fork(), "fork"));
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try {
                rc = fn(arg);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "affinity_and_numa child: %s\n", e.what());
            }
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    Child(const Child&) = delete;
    ~Child() {
        if (pid_ > 0 && ::kill(pid_, SIGKILL) == 0) ::waitpid(pid_, nullptr, 0);
    }
    /// Wait for it (every child here ends by itself) and return its exit code.
    int wait() {
        int status = 0;
        check(::waitpid(std::exchange(pid_, -1), &status, 0), "waitpid");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }

private:
    pid_t pid_;
};

/// Child: pin itself to `cpu`, then sample sched_getcpu() while spinning for
/// 30 ms. Also checks that a child forked now inherits the one-CPU mask.
int pinned_child(int cpu) {
    pin_to(cpu);
    long samples = 0, elsewhere = 0;
    for (auto t0 = Clock::now(); Clock::now() - t0 < std::chrono::milliseconds(30); ++samples)
        if (::sched_getcpu() != cpu) ++elsewhere;
    Child grandchild([](int c) { return allowed_cpus() == std::vector<int>{c} ? 0 : 1; }, cpu);
    bool inherited = grandchild.wait() == 0;
    std::printf("child pinned to CPU %d: %ld sched_getcpu() samples, %ld on another CPU; "
                "its own child %s the mask\n",
                cpu, samples, elsewhere, inherited ? "inherits" : "does NOT inherit");
    return elsewhere == 0 && inherited ? 0 : 1;
}

/// Child: a fixed amount of arithmetic, pinned to `cpu`.
int busy_child(int cpu) {
    pin_to(cpu);
    volatile unsigned long x = 1;
    for (long i = 0; i < 10'000'000; ++i) x = x * 2862933555777941757UL + 3037000493UL;
    return 0;
}

/// Child: spin for 150 ms of wall time, using whatever CPU time it is given.
int spinner(int) {
    for (auto t0 = Clock::now(); Clock::now() - t0 < std::chrono::milliseconds(150);) {
    }
    return 0;
}

/// How many CPUs' worth of time we can get right now: run one spinner per CPU
/// and divide the CPU time they received (RUSAGE_CHILDREN) by the wall time.
/// Other busy programs on the machine push this below the CPU count.
double available_parallelism(const std::vector<int>& cpus) {
    auto children_cpu_s = [] {
        rusage ru{};
        check(::getrusage(RUSAGE_CHILDREN, &ru), "getrusage");
        auto s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6; };
        return s(ru.ru_utime) + s(ru.ru_stime);
    };
    double cpu0 = children_cpu_s();
    auto t0 = Clock::now();
    std::vector<Child> kids;
    for (std::size_t i = 0; i < cpus.size(); ++i) kids.emplace_back(spinner, 0);
    for (Child& k : kids) k.wait();
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    return (children_cpu_s() - cpu0) / wall;
}

/// Wall time for two busy children pinned to cpu_a and cpu_b; median of 3.
double two_workers_ms(int cpu_a, int cpu_b) {
    std::vector<double> ms;
    for (int r = 0; r < 3; ++r) {
        auto t0 = Clock::now();
        Child a(busy_child, cpu_a), b(busy_child, cpu_b);
        if (a.wait() != 0 || b.wait() != 0) throw std::runtime_error("a busy child failed");
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[1];
}

}  // namespace

int run();

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {  // the Child owners have killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "affinity_and_numa: %s\n", e.what());
        return 1;
    }
}

int run() {
    std::vector<int> cpus = allowed_cpus();
    std::printf("usable CPUs (sched_getaffinity): %zu [", cpus.size());
    for (std::size_t i = 0; i < cpus.size(); ++i) std::printf(i ? " %d" : "%d", cpus[i]);
    std::printf("]; std::thread::hardware_concurrency() = %u\n", std::thread::hardware_concurrency());
    std::printf("\n");

    bool ok = true;
    for (int c : cpus) ok &= Child(pinned_child, c).wait() == 0;

    if (cpus.size() < 2) {
        std::printf("only one usable CPU: nothing to compare\n");
        return ok ? 0 : 1;
    }
    double avail = available_parallelism(cpus);
    double same = two_workers_ms(cpus[0], cpus[0]);
    double apart = two_workers_ms(cpus[0], cpus[1]);
    double cost = same / apart;
    std::printf("two busy workers: same CPU %.1f ms, separate CPUs %.1f ms (median of 3)\n", same, apart);
    // With other programs busy on the CPUs, "separate" CPUs are shared too, and
    // the comparison says nothing: judge it only when the CPUs were free.
    bool quiet = avail >= 0.85 * static_cast<double>(cpus.size());
    if (!quiet) {
        std::printf("sharing one CPU costs %.2fx; not judged: only %.2f CPUs were free for this run\n", cost,
                    avail);
        return ok ? 0 : 1;
    }
    // Reported, not enforced: 2x is the most it can be, so no margin would hold
    // on every machine.
    std::printf("sharing one CPU costs %.2fx (expected about 2x; %.2f CPUs were free): %s\n", cost, avail,
                cost >= 1.5 ? "pinned processes cannot use the other CPU" : "not shown on this run");
    return ok ? 0 : 1;
}
