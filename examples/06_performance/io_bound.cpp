// io_bound.cpp — the same 8 waiting tasks run by 1, 2 and 4 workers, as threads and
// as processes: each task waits 40 ms on a pipe nobody writes to, as a read from a
// slow disk or peer would. (cpu_bound.cpp: the same workers on arithmetic.)
#include <poll.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>

#include "workers.hpp"  // run_table(), report_speedup(), workers_main()

namespace {

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

}  // namespace

int run(bool full) {
    const int runs = full ? 9 : 3, wait_ms = full ? 50 : 40;
    std::printf("mode: %s (%d runs per cell; --full for more)\n\n", full ? "full" : "quick", runs);
    Table io = run_table("I/O-bound: 8 tasks that each wait on a pipe", runs,
                         [&](int t) { return io_task(t, wait_ms); });
    std::printf("\nevery run of every cell returned the serial result\n");
    // Waiting does not occupy a CPU, so waits overlap even with more workers than CPUs.
    report_speedup("I/O-bound, threads  ", io.threads, 2, 2.5, "waits overlap beyond the CPU count");
    report_speedup("I/O-bound, processes", io.processes, 2, 2.5, "waits overlap beyond the CPU count");
    return 0;  // every cell was checked against the serial result above
}

int main(int argc, char** argv) { return workers_main(argc, argv, run); }
