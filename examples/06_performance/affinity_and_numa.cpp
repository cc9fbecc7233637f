// affinity_and_numa.cpp — which CPUs may we use, how is memory laid out, and
// what does pinning a process to a CPU (sched_setaffinity) change?
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

long check(long rc, const char* what) {
    if (rc == -1) die(what);
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

std::string first_line(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

/// The NUMA layout as the kernel publishes it: one nodeN directory per node,
/// with the CPUs it owns (cpulist) and its memory (meminfo, "Node N MemTotal:").
void print_numa_layout() {
    namespace fs = std::filesystem;
    const fs::path root = "/sys/devices/system/node";
    std::vector<fs::path> nodes;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(root, ec))
        if (e.path().filename().string().rfind("node", 0) == 0 && e.is_directory()) nodes.push_back(e.path());
    if (ec || nodes.empty()) {
        std::printf("no NUMA information in %s (kernel without NUMA support)\n", root.c_str());
        return;
    }
    std::sort(nodes.begin(), nodes.end());
    std::printf("NUMA nodes in %s: %zu%s\n", root.c_str(), nodes.size(),
                nodes.size() == 1 ? " (all memory is equally near every CPU)" : "");
    for (auto& n : nodes) {
        long mem_kib = 0;
        std::ifstream in(n / "meminfo");
        for (std::string word; in >> word;)
            if (word == "MemTotal:" && in >> mem_kib) break;
        std::printf("  %s: CPUs %s, memory %ld MiB\n", n.filename().c_str(), first_line(n / "cpulist").c_str(),
                    mem_kib / 1024);
    }
}

/// Fork a child that runs `fn` and exits with its return value.
pid_t spawn(int (*fn)(int), int arg) {
    std::fflush(stdout);  // unflushed output would be printed twice
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) {
        int rc = fn(arg);
        std::fflush(stdout);
        ::_exit(rc);
    }
    return pid;
}

int wait_exit_code(pid_t pid) {
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/// Child: pin itself to `cpu`, then sample sched_getcpu() while spinning for
/// 30 ms. Also checks that a child forked now inherits the one-CPU mask.
int pinned_child(int cpu) {
    pin_to(cpu);
    long samples = 0, elsewhere = 0;
    for (auto t0 = Clock::now(); Clock::now() - t0 < std::chrono::milliseconds(30); ++samples)
        if (::sched_getcpu() != cpu) ++elsewhere;
    pid_t grandchild = spawn([](int c) { return allowed_cpus() == std::vector<int>{c} ? 0 : 1; }, cpu);
    bool inherited = wait_exit_code(grandchild) == 0;
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
    std::vector<pid_t> kids;
    for (std::size_t i = 0; i < cpus.size(); ++i) kids.push_back(spawn(spinner, 0));
    for (pid_t k : kids) wait_exit_code(k);
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    return (children_cpu_s() - cpu0) / wall;
}

/// Wall time for two busy children pinned to cpu_a and cpu_b; median of 3.
double two_workers_ms(int cpu_a, int cpu_b) {
    std::vector<double> ms;
    for (int r = 0; r < 3; ++r) {
        auto t0 = Clock::now();
        pid_t a = spawn(busy_child, cpu_a), b = spawn(busy_child, cpu_b);
        if (wait_exit_code(a) != 0 || wait_exit_code(b) != 0) die("busy child failed");
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[1];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    std::vector<int> cpus = allowed_cpus();
    std::printf("usable CPUs (sched_getaffinity): %zu [", cpus.size());
    for (std::size_t i = 0; i < cpus.size(); ++i) std::printf(i ? " %d" : "%d", cpus[i]);
    std::printf("]; std::thread::hardware_concurrency() = %u\n", std::thread::hardware_concurrency());
    print_numa_layout();
    std::printf("\n");

    bool ok = true;
    for (int c : cpus) ok &= wait_exit_code(spawn(pinned_child, c)) == 0;

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
