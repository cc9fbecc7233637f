// memory_probe.hpp — what chapter 6's memory programs (copy_on_write,
// memory_overhead_benchmark) share: a process's memory from /proc, and the owner of
// a forked child whose memory they read.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

// A failed call throws, naming the call; main prints it.
inline long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: probe
/// The totals of /proc/<pid>/smaps_rollup we need, in KiB.
/// RSS counts every resident page mapped; PSS divides each shared page by the
/// number of processes sharing it; Private counts pages only this process has.
struct Memory {
    long rss = 0, pss = 0, shared = 0, priv = 0;
};

inline Memory memory_of(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/smaps_rollup");
    if (!in) throw std::runtime_error("cannot open /proc/" + pid + "/smaps_rollup");
    Memory m;
    std::string key;
    long kib;
    while (in >> key) {
        if (!(in >> kib)) {  // the header line has no number: skip it
            in.clear();
            std::getline(in, key);
            continue;
        }
        if (key == "Rss:") m.rss = kib;
        else if (key == "Pss:") m.pss = kib;
        else if (key == "Shared_Clean:" || key == "Shared_Dirty:") m.shared += kib;
        else if (key == "Private_Clean:" || key == "Private_Dirty:") m.priv += kib;
        std::getline(in, key);  // rest of the line ("kB")
    }
    return m;
}

/// Page-table memory of a process (VmPTE in /proc/<pid>/status), in KiB.
/// Threads share their process's page tables; every process has its own.
inline long page_tables_kib(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/status");
    std::string key;
    long kib = 0;
    while (in >> key)
        if (key == "VmPTE:" && in >> kib) return kib;
    throw std::runtime_error("VmPTE not found in /proc/" + pid + "/status");
}

// ANCHOR_END: probe

// ANCHOR: child
/// A forked child running body(), which ends in _exit whatever happens.
/// Killed and reaped if it is still running when its owner goes out of scope.
class Child {
public:
    template <class Body>
    explicit Child(Body body) {
        std::fflush(stdout);  // unflushed output would be printed twice
        pid_ = static_cast<pid_t>(check(::fork(), "fork"));
        if (pid_ == 0) {  // never returns into the parent's code
            int code = 1;
            try {
                code = body();
            } catch (const std::exception& e) {
                std::fprintf(stderr, "%s child: %s\n", program_invocation_short_name, e.what());
            }
            std::fflush(stdout);
            ::_exit(code);
        }
    }
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    Child(const Child&) = delete;
    ~Child() {
        if (pid_ > 0 && ::kill(pid_, SIGKILL) == 0) ::waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }
    /// Wait for a child that ends by itself; true if it exited with status 0.
    bool exited_ok() {
        int status = 0;
        check(::waitpid(std::exchange(pid_, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

private:
    pid_t pid_;
};
// ANCHOR_END: child

