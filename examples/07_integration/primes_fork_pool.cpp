// primes_fork_pool.cpp — the prime count of primes.hpp in a hand-made fork() pool.
//
// Two pipes are the whole pool. Tasks: chunk numbers in one pipe that every worker
// reads (each 4-byte read takes exactly one task, so an idle worker pulls the next
// one: dynamic scheduling). Results: one 8-byte count per chunk in a second pipe
// (Py: sum(Pool(2).imap_unordered(count_chunk, range(64)))).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <system_error>
#include <utility>
#include <vector>

#include "primes.hpp"   // count_chunk, count_serial, timed, report

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Pipe {
public:
    Pipe() { check(::pipe2(fd_, O_CLOEXEC), "pipe2"); }
    ~Pipe() { close_read(); close_write(); }
    int read_end() const { return fd_[0]; }
    int write_end() const { return fd_[1]; }
    void close_read() { if (fd_[0] >= 0) ::close(std::exchange(fd_[0], -1)); }
    void close_write() { if (fd_[1] >= 0) ::close(std::exchange(fd_[1], -1)); }
private:
    int fd_[2];
};

/// The pool's children; any not yet waited for are killed and reaped.
struct Workers {
    std::vector<pid_t> pids;
    ~Workers() {  // SIGKILL cannot be caught: these waits are bounded
        for (pid_t p : pids) if (p > 0 && ::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
    }
};

[[noreturn]] void worker(Pipe& tasks, Pipe& results) {
    // A worker must not hold write ends it does not need, or the reader never
    // sees EOF. (Both pipes are O_CLOEXEC, but we never exec: close by hand.)
    tasks.close_write();
    results.close_read();
    std::int32_t chunk;
    while (::read(tasks.read_end(), &chunk, sizeof chunk) == sizeof chunk) {
        std::int64_t count = count_chunk(chunk);
        if (::write(results.write_end(), &count, sizeof count) != sizeof count) ::_exit(1);
    }
    ::_exit(0);                              // EOF on the task pipe: no more work
}

long count_fork_pool() {
    Pipe tasks, results;
    Workers workers;
    for (int w = 0; w < kWorkers; ++w) {
        std::fflush(stdout);                 // or each child prints our buffered text again
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) worker(tasks, results);
        workers.pids.push_back(pid);
    }
    tasks.close_read();
    results.close_write();                   // now EOF means "every worker has exited"

    // 64 tasks are 256 bytes and 64 results 512 bytes: far below the 64 KiB a pipe
    // holds, so writing every task before reading any result cannot deadlock.
    for (std::int32_t c = 0; c < kChunks; ++c)
        if (::write(tasks.write_end(), &c, sizeof c) != sizeof c) check(-1, "write task");
    tasks.close_write();                     // workers stop at EOF

    // A lost or doubled chunk shows in the total, which main compares with the serial one.
    long total = 0;
    std::int64_t count;
    while (::read(results.read_end(), &count, sizeof count) == sizeof count) total += count;

    // EOF: each worker has closed its write end by exiting, so these waits are bounded.
    bool ok = true;
    for (pid_t& p : workers.pids) {
        int status;
        check(::waitpid(p, &status, 0), "waitpid");
        p = -1;                              // reaped: the owner must not kill a reused PID
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok ? total : -1;                  // -1 never equals the serial count
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::cerr << "usage: primes_fork_pool\n"; return 2; }
    try {
        Timed serial = timed(count_serial);
        Timed parallel = timed(count_fork_pool);
        return report("process pool (fork)", serial, parallel) ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "primes_fork_pool: " << e.what() << '\n';
        return 1;
    }
}
