// process_vs_thread.cpp - what a thread shares and what a forked child does not.
//
// A thread runs inside our process: same PID, its own TID, same memory.
// A child made by fork() is a new process: new PID, and a *copy* of our memory
// (copy-on-write), so its writes never reach us.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>
#include <thread>
#include <vector>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

int g_value = 0;  // one global, changed by a thread and by a child

void show_ids(const char* who) {
    std::cout << who << ": pid=" << getpid() << " ppid=" << getppid()
              << " tid=" << gettid() << '\n';
}

// Threads: the write is made to the one and only copy of g_value.
bool thread_shares_memory(pid_t main_pid) {
    bool same_pid = false;
    std::thread t([&] {
        show_ids("thread");
        same_pid = (getpid() == main_pid) && (gettid() != main_pid);
        g_value = 1;
    });
    t.join();  // join() also makes the thread's writes visible to us
    std::cout << "after the thread set g_value = 1, main sees g_value = " << g_value
              << '\n';
    return same_pid && g_value == 1;
}

// Processes: the child writes to its own copy of the page holding g_value.
bool child_gets_a_copy(pid_t main_pid) {
    std::cout.flush();  // otherwise the child inherits (and prints) our buffer too
    pid_t pid = check(fork(), "fork");
    if (pid == 0) {
        show_ids("child ");
        g_value = 2;
        std::cout << "child : set g_value = 2 in its copy (ppid == main pid: "
                  << (getppid() == main_pid ? "yes" : "no") << ")\n";
        std::cout.flush();
        _exit(getppid() == main_pid ? 0 : 1);
    }
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    std::cout << "after the child set g_value = 2, main still sees g_value = " << g_value
              << '\n';
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && g_value == 1;
}

// CPU-bound work: no GIL in C++, so two threads use two cores at once.
unsigned long long burn(unsigned long long from, unsigned long long to) {
    unsigned long long acc = 0;
    for (auto i = from; i < to; ++i) acc += (i * i) % 7;
    return acc;
}

bool threads_run_cpu_work(unsigned long long n) {
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    const auto serial = burn(0, n);
    auto t1 = clock::now();
    unsigned long long halves[2] = {};
    std::vector<std::jthread> workers;
    for (int k = 0; k < 2; ++k)
        workers.emplace_back(
            [&halves, k, n] { halves[k] = burn(k * n / 2, (k + 1) * n / 2); });
    workers.clear();  // jthread joins in its destructor
    auto t2 = clock::now();
    const auto parallel = halves[0] + halves[1];
    std::chrono::duration<double, std::milli> one = t1 - t0, two = t2 - t1;
    std::printf(
        "CPU-bound sum: 1 thread %.0f ms, 2 threads %.0f ms (speed-up %.1fx on %u cores)\n",
        one.count(), two.count(), one / two, std::thread::hardware_concurrency());
    std::printf("CPU-bound sum: results %s\n", serial == parallel ? "equal" : "DIFFER");
    std::fflush(stdout);
    return serial == parallel;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const pid_t main_pid = getpid();
        show_ids("main  ");
        std::cout << "main  : tid == pid: " << (gettid() == main_pid ? "yes" : "no")
                  << " (the first thread's TID is the process ID)\n";
        const bool a = thread_shares_memory(main_pid);
        const bool b = child_gets_a_copy(main_pid);
        const bool c = threads_run_cpu_work(200'000'000ULL);
        std::cout << (a ? "ok" : "FAILED")
                  << ": a thread shares the process's memory and PID\n"
                  << (b ? "ok" : "FAILED")
                  << ": a forked child has its own PID and a private copy\n"
                  << (c ? "ok" : "FAILED")
                  << ": threads split CPU-bound work with no GIL\n";
        return (a && b && c) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
