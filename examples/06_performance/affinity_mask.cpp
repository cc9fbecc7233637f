// affinity_mask.cpp — which CPUs may we use (sched_getaffinity), and what does
// pinning a process to one of them (sched_setaffinity) do? It stays there, and its
// children inherit the mask. (affinity_cost.cpp: what a wrong pin costs.)
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
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
                std::fprintf(stderr, "affinity_mask child: %s\n", e.what());
            }
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
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

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        std::vector<int> cpus = allowed_cpus();
        std::printf("usable CPUs (sched_getaffinity): %zu [", cpus.size());
        for (std::size_t i = 0; i < cpus.size(); ++i) std::printf(i ? " %d" : "%d", cpus[i]);
        std::printf("]; std::thread::hardware_concurrency() = %u\n\n", std::thread::hardware_concurrency());
        bool ok = true;
        for (int c : cpus) ok &= Child(pinned_child, c).wait() == 0;  // one at a time
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // the Child owners have killed and reaped
        std::fflush(stdout);
        std::fprintf(stderr, "affinity_mask: %s\n", e.what());
        return 1;
    }
}
