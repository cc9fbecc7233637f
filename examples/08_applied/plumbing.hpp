// plumbing.hpp - the process-and-pipe plumbing that chapter 8's programs share:
// the error helper, an owner for forked children, a forking helper whose child always
// ends with _exit, descriptors and pipes with owners, fixed-size records over a pipe,
// and a temporary directory removed with its contents.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { close(); }
    int get() const noexcept { return fd_; }
    void close() noexcept { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

// ANCHOR: pipe
/// A pipe whose ends are closed by their owners. O_CLOEXEC keeps them out of exec'd
/// programs; O_DIRECT (packet mode) makes one read() return exactly one write(), so
/// several readers of one pipe never tear a record.
struct Pipe {
    Fd read, write;
    explicit Pipe(int flags = 0) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC | flags), "pipe2");
        read = Fd(fds[0]);
        write = Fd(fds[1]);
    }
};
// ANCHOR_END: pipe

// ANCHOR: children
/// Owns forked children. wait_all() reaps them and says whether all exited with 0;
/// the destructor kills and reaps any still running (early return, exception).
class ChildGroup {
public:
    ChildGroup() = default;
    ChildGroup(const ChildGroup&) = delete;
    ChildGroup& operator=(const ChildGroup&) = delete;
    ~ChildGroup() {  // SIGKILL cannot be caught: these waits are bounded
        for (pid_t pid : pids_) if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
    void add(pid_t pid) { pids_.push_back(pid); }
    bool wait_all() {
        bool ok = true;
        for (pid_t pid : pids_) {
            int status;
            check(::waitpid(pid, &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return ok;
    }
private:
    std::vector<pid_t> pids_;
};

/// Forks a child that first closes the descriptors it must not hold (a stray write end
/// would keep a reader from ever seeing end-of-file), then runs body().
template <class F>
pid_t start(std::initializer_list<Fd*> close_in_child, F body) {
    std::cout.flush();  // unflushed output would be printed by the child too,
    std::fflush(stdout);  // printf's as well as cout's
    pid_t pid = static_cast<pid_t>(check(::fork(), "fork"));
    if (pid == 0) {  // the child ends here, whatever happens: never in main's code
        int code = 1;
        try {
            for (Fd* fd : close_in_child) fd->close();
            body();
            code = 0;
        } catch (...) {}
        std::fflush(stdout);
        _exit(code);
    }
    return pid;
}
// ANCHOR_END: children

/// How a reaped child ended, from its waitpid() status.
inline std::string describe(int status) {
    if (WIFSIGNALED(status)) return std::string("killed by SIG") + sigabbrev_np(WTERMSIG(status));
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

/// One fixed-size record per write(): below PIPE_BUF, so it is never interleaved
/// with another writer's.
template <class T>
void send(int fd, const T& record) {
    if (check(::write(fd, &record, sizeof record), "write") != sizeof record)
        throw std::runtime_error("short write");
}
/// One record; false at end-of-file (every write end is closed).
template <class T>
bool receive(int fd, T& record) {
    long n;
    while ((n = ::read(fd, &record, sizeof record)) == -1 && errno == EINTR) {}
    if (check(n, "read") == 0) return false;
    if (n != sizeof record) throw std::runtime_error("short read");
    return true;
}

/// A directory under /tmp, removed with everything in it however its scope is left.
class TempDir {
public:
    explicit TempDir(const std::string& prefix) {
        std::string name = (std::filesystem::temp_directory_path() / (prefix + ".XXXXXX")).string();
        if (!::mkdtemp(name.data())) check(-1, "mkdtemp");
        path_ = name;
    }
    ~TempDir() { std::error_code ignored; std::filesystem::remove_all(path_, ignored); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
private:
    std::filesystem::path path_;
};
