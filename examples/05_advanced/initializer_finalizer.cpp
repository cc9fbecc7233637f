// initializer_finalizer.cpp — per-worker set-up and tear-down in a process pool.
//
// Python: Pool(initializer=f, initargs=...) runs f once in every worker; there
// is no finalizer, and pool workers leave with os._exit(), so atexit does not
// run in them. In C++ the worker's state is an object: its constructor is the
// initializer and its destructor the finalizer (RAII), and it runs on every
// orderly way out of the worker's main function.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {


constexpr int kWorkers = 3;
constexpr int kTasks = 9;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Owns one file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) { reset(); fd_ = std::exchange(other.fd_, -1); }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

/// A datagram-like channel: SOCK_SEQPACKET keeps message boundaries, so several
/// workers can read the same end and each gets whole messages.
struct Channel {
    Fd a, b;   // parent uses a, workers use b
    Channel() {
        int fds[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), "socketpair");
        a = Fd(fds[0]);
        b = Fd(fds[1]);
    }
};

enum class Kind : int { Hello, Result, Bye };
struct Message {
    Kind kind;
    int worker;
    int task;          // Result: the task; Bye: how many tasks this worker did
    long value;        // Result: the answer
    char scratch[64];  // Hello/Bye: the worker's scratch file
};

template <class T> void send_msg(int fd, const T& msg) {
    check(static_cast<int>(::send(fd, &msg, sizeof msg, MSG_NOSIGNAL)), "send");
}
template <class T> bool recv_msg(int fd, T& msg) {
    ssize_t n;
    while ((n = ::recv(fd, &msg, sizeof msg, 0)) == -1 && errno == EINTR) {}
    check(static_cast<int>(n), "recv");
    return n == static_cast<ssize_t>(sizeof msg);
}

/// Everything one worker sets up once and tears down once.
/// Constructor = Python's initializer; destructor = the finalizer Python lacks.
class WorkerState {
public:
    WorkerState(int id, int results) : id_(id), results_(results) {
        // The "expensive" set-up: a scratch file and a lookup table.
        std::snprintf(scratch_, sizeof scratch_, "/tmp/ch05-worker%d-XXXXXX", id);
        scratch_fd_ = Fd(check(::mkstemp(scratch_), "mkstemp"));
        for (long i = 0; i < 100; ++i) squares_.push_back(i * i);
        say("initializer: scratch file and lookup table ready");
        Message hello{Kind::Hello, id_, 0, 0, {}};
        std::memcpy(hello.scratch, scratch_, sizeof hello.scratch);
        send_msg(results_, hello);
    }
    ~WorkerState() {
        // Runs on return and on exceptions alike: the scratch file never leaks.
        scratch_fd_.reset();
        ::unlink(scratch_);
        say("finalizer: did " + std::to_string(done_) + " tasks, scratch file removed");
        Message bye{Kind::Bye, id_, done_, 0, {}};
        std::memcpy(bye.scratch, scratch_, sizeof bye.scratch);
        send_msg(results_, bye);
    }
    WorkerState(const WorkerState&) = delete;
    WorkerState& operator=(const WorkerState&) = delete;

    long handle(int task) {
        ++done_;
        return squares_.at(static_cast<size_t>(task));
    }
private:
    void say(const std::string& text) const {
        std::printf("  worker %d (pid %d) %s\n", id_, static_cast<int>(::getpid()), text.c_str());
        std::fflush(stdout);   // one write per line: lines from workers never mix
    }
    int id_, results_;
    int done_ = 0;
    char scratch_[64];
    Fd scratch_fd_;
    std::vector<long> squares_;
};

/// The worker's whole life. Returning from here destroys `state`: the finalizer.
int worker_main(int id, int tasks, int results) {
    WorkerState state(id, results);
    int task;
    while (recv_msg(tasks, task) && task >= 0) {   // -1 is the "stop" request
        Message m{Kind::Result, id, task, state.handle(task), {}};
        send_msg(results, m);
    }
    return 0;
}

/// Parent side: a tiny fixed pool.
class Pool {
public:
    Pool() {
        std::fflush(stdout);
        for (int id = 1; id <= kWorkers; ++id) {
            pid_t pid = ::fork();
            if (pid == -1) {  // the destructor will not run: stop the workers we have
                int err = errno;
                for (pid_t p : pids_) { ::kill(p, SIGKILL); ::waitpid(p, nullptr, 0); }
                throw std::system_error(err, std::generic_category(), "fork");
            }
            if (pid == 0) {  // the child ends here, whatever happens: never in main's code
                int code = 1;
                try {
                    tasks_.a.reset();
                    results_.a.reset();
                    code = worker_main(id, tasks_.b.get(), results_.b.get());
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "initializer_finalizer: worker %d: %s\n", id, e.what());
                }
                std::fflush(stdout);
                // _exit, not exit: the inherited atexit handlers and static
                // destructors are the parent's business (see atexit_fork).
                ::_exit(code);
            }
            pids_.push_back(pid);
        }
        tasks_.b.reset();
        results_.b.reset();
    }
    ~Pool() { stop(); }
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    void submit(int task) { send_msg(tasks_.a.get(), task); }
    bool next(Message& m) { return recv_msg(results_.a.get(), m); }

    /// Orderly shutdown: one stop request per worker, then reap them all.
    /// Returns how many workers exited with status 0.
    int stop() {
        int clean = 0;
        if (pids_.empty()) return clean;
        for (size_t i = 0; i < pids_.size(); ++i) submit(-1);
        for (pid_t pid : pids_) {
            int status = 0;
            while (::waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
            clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return clean;
    }
private:
    Channel tasks_, results_;
    std::vector<pid_t> pids_;
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: initializer_finalizer (takes no arguments)\n");
        return 2;
    }
    try {

    std::printf("starting %d workers; each runs its initializer once\n", kWorkers);
    Pool pool;
    std::vector<std::string> scratch_files;
    Message m{};
    while (static_cast<int>(scratch_files.size()) < kWorkers && pool.next(m))
        if (m.kind == Kind::Hello) scratch_files.emplace_back(m.scratch);
    std::printf("all %zu workers initialised; submitting %d tasks\n", scratch_files.size(), kTasks);
    std::fflush(stdout);

    for (int t = 0; t < kTasks; ++t) pool.submit(t);
    long sum = 0;
    for (int got = 0; got < kTasks && pool.next(m);)
        if (m.kind == Kind::Result) { sum += m.value; ++got; }
    long expected = 0;
    for (long t = 0; t < kTasks; ++t) expected += t * t;
    std::printf("sum of squares = %ld (expected %ld)\n", sum, expected);
    std::printf("shutting down: one stop request per worker\n");
    std::fflush(stdout);

    int clean = pool.stop();   // finalizers run now, in the workers
    int byes = 0, tasks_reported = 0;
    while (byes < kWorkers && pool.next(m))
        if (m.kind == Kind::Bye) { ++byes; tasks_reported += m.task; }
    bool files_gone = true;
    for (const auto& f : scratch_files) files_gone = files_gone && ::access(f.c_str(), F_OK) == -1;

    std::printf("%d/%d workers exited with status 0\n", clean, kWorkers);
    std::printf("%d/%d finalizers reported, covering %d/%d tasks\n", byes, kWorkers, tasks_reported, kTasks);
    std::printf("scratch files removed by the finalizers: %s\n", files_gone ? "yes" : "NO");
    bool ok = sum == expected && clean == kWorkers && byes == kWorkers &&
              tasks_reported == kTasks && files_gone;
    std::printf("%s\n", ok ? "ok: every worker was set up once and torn down once"
                           : "FAIL: set-up or tear-down went wrong");
    return ok ? 0 : 1;
    } catch (const std::exception& e) {  // ~Pool has stopped and reaped the workers
        std::fflush(stdout);
        std::fprintf(stderr, "initializer_finalizer: %s\n", e.what());
        return 1;
    }
}
