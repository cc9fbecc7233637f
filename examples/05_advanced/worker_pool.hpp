// ANCHOR: messages
// worker_pool.hpp - what initializer_finalizer and initializer_fails share: the error
// idiom, the messages a worker sends, its scratch file, and a tiny pool of workers.
#pragma once
#include <glob.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

// A failed call throws, naming the call; main (or the worker's body) prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {   // owns one descriptor
    int fd = -1;
    ~Fd() { reset(); }
    void reset() { if (fd >= 0) ::close(fd); fd = -1; }
};

enum class Kind : int { Hello, Result, Bye };
struct Message {
    Kind kind;
    int worker;
    int task;     // Result: the task; Bye: how many tasks this worker did
    long value;   // Result: the answer
};

template <class T> void send_msg(int fd, const T& msg) {
    check(static_cast<int>(::send(fd, &msg, sizeof msg, MSG_NOSIGNAL)), "send");
}
template <class T> bool recv_msg(int fd, T& msg) {   // false at end-of-file
    return check(static_cast<int>(::recv(fd, &msg, sizeof msg, 0)), "recv") == sizeof msg;
}

inline void say(int id, const std::string& text) {
    std::printf("  worker %d (pid %d) %s\n", id, static_cast<int>(::getpid()), text.c_str());
    std::fflush(stdout);   // one write per line: lines from workers never mix
}

/// One worker's temporary file, named after the parent's PID so that the parent can
/// look for leftovers. An owner of its own: if the worker's constructor throws after
/// making it, that object gets no destructor, but this member still does.
struct ScratchFile {
    explicit ScratchFile(int id) {
        std::snprintf(path, sizeof path, "/tmp/ch05-%d-worker%d-XXXXXX", static_cast<int>(::getppid()), id);
        fd = check(::mkstemp(path), "mkstemp");
    }
    ~ScratchFile() { remove(); }
    ScratchFile(const ScratchFile&) = delete;
    void remove() { if (fd >= 0) { ::close(fd); ::unlink(path); } fd = -1; }
    char path[64];
    int fd = -1;
};

/// How many scratch files of this parent's workers are in /tmp now.
inline size_t scratch_files() {
    const std::string pattern = "/tmp/ch05-" + std::to_string(::getpid()) + "-worker*";
    glob_t found{};
    size_t n = ::glob(pattern.c_str(), 0, nullptr, &found) == 0 ? found.gl_pathc : 0;
    ::globfree(&found);
    return n;
}
// ANCHOR_END: messages

// ANCHOR: pool
/// Python's BrokenProcessPool: a worker died, or none spoke for 5 s.
struct BrokenPool : std::runtime_error { using std::runtime_error::runtime_error; };

/// Parent side: workers on one SOCK_SEQPACKET pair, used both ways (message boundaries
/// kept: several workers may read one end). Each worker runs body(id, socket).
class Pool {
public:
    Pool(int workers, const char* program, int (*body)(int id, int sock)) {
        int fds[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
        sock_.fd = fds[0];
        Fd theirs{fds[1]};
        pids_.reserve(static_cast<size_t>(workers));   // push_back after a fork must not throw
        std::fflush(stdout);
        try {
            for (int id = 1; id <= workers; ++id) {
                pid_t pid = check(::fork(), "fork");
                if (pid == 0) {  // the child ends here, whatever happens: never in main's code
                    int code = 1;
                    try { sock_.reset(); code = body(id, theirs.fd); }
                    catch (const std::exception& e) { std::fprintf(stderr, "%s: worker %d: %s\n", program, id, e.what()); }
                    std::fflush(stdout);
                    ::_exit(code);   // not exit: atexit handlers are the parent's (see atexit_fork)
                }
                pids_.push_back(pid);
            }
        } catch (...) { abandon(); throw; }   // a constructor that throws gets no destructor
    }
    ~Pool() { abandon(); }
    Pool(const Pool&) = delete;

    void submit(int task) { send_msg(sock_.fd, task); }
    /// The next message from any worker. A worker that died sends nothing, and the
    /// others still hold the socket: so look for dead workers at each 50 ms of silence.
    bool next(Message& m) {
        for (int silent_ms = 0; silent_ms < 5000; silent_ms += 50) {
            pollfd p{sock_.fd, POLLIN, 0};
            if (check(::poll(&p, 1, 50), "poll") > 0) return recv_msg(sock_.fd, m);
            for (size_t i = 0; i < pids_.size(); ++i) {
                int status = 0;
                if (pids_[i] > 0 && check(::waitpid(pids_[i], &status, WNOHANG), "waitpid") > 0) {
                    pids_[i] = -1;   // reaped: the destructor must not signal that number
                    throw BrokenPool("worker " + std::to_string(i + 1) + " exited with status " +
                                     std::to_string(WEXITSTATUS(status)) + ": the pool is broken");
                }
            }
        }
        throw BrokenPool("no word from the workers for 5 s");
    }
    /// Orderly shutdown: one stop request per worker, then reap them all.
    /// Returns how many workers exited with status 0.
    int stop() {
        for (size_t i = 0; i < pids_.size(); ++i) submit(-1);
        int clean = 0;
        for (pid_t& pid : pids_) {
            int status = 0;
            if (pid > 0) check(::waitpid(pid, &status, 0), "waitpid");
            clean += pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
            pid = -1;
        }
        return clean;
    }
    /// Leaving early: end-of-file tells idle workers to stop (their finalizers run);
    /// one still busy after 1 s gets SIGKILL. Every worker is reaped. Returns how many
    /// exited with status 0 by themselves.
    int abandon() {
        sock_.reset();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        int clean = 0, status = 0;
        for (pid_t& pid : pids_) {
            while (pid > 0) {
                pid_t r = ::waitpid(pid, &status, WNOHANG);
                if (r == pid) { clean += WIFEXITED(status) && WEXITSTATUS(status) == 0; break; }
                if (r == 0 && std::chrono::steady_clock::now() < deadline) { ::usleep(5000); continue; }
                if (r == 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
                break;
            }
            pid = -1;
        }
        return clean;
    }
private:
    Fd sock_;
    std::vector<pid_t> pids_;
};
// ANCHOR_END: pool
