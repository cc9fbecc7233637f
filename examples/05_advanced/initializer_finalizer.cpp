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
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace {

constexpr int kWorkers = 3;
constexpr int kTasks = 9;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
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
    int task;          // Result: the task; Bye: how many tasks this worker did
    long value;        // Result: the answer
    char scratch[64];  // Hello/Bye: the worker's scratch file
};

template <class T> void send_msg(int fd, const T& msg) {
    check(static_cast<int>(::send(fd, &msg, sizeof msg, MSG_NOSIGNAL)), "send");
}
template <class T> bool recv_msg(int fd, T& msg) {   // false at end-of-file
    return check(static_cast<int>(::recv(fd, &msg, sizeof msg, 0)), "recv") == sizeof msg;
}

/// Everything one worker sets up once and tears down once.
/// Constructor = Python's initializer; destructor = the finalizer Python lacks.
class WorkerState {
public:
    WorkerState(int id, int results) : id_(id), results_(results) {
        // The "expensive" set-up: a scratch file and a lookup table.
        std::snprintf(scratch_, sizeof scratch_, "/tmp/ch05-worker%d-XXXXXX", id);
        scratch_fd_.fd = check(::mkstemp(scratch_), "mkstemp");
        for (long i = 0; i < 100; ++i) squares_.push_back(i * i);
        say("initializer: scratch file and lookup table ready");
        Message hello{Kind::Hello, id_, 0, 0, {}};
        std::memcpy(hello.scratch, scratch_, sizeof hello.scratch);
        (void)::send(results_, &hello, sizeof hello, MSG_NOSIGNAL);   // as the bye: never throws
    }
    ~WorkerState() {
        // Runs on return and on exceptions alike; not on SIGKILL, the last resort of
        // Pool::abandon() for a worker still busy a second after the pool was given up.
        scratch_fd_.reset();
        ::unlink(scratch_);
        say("finalizer: did " + std::to_string(done_) + " tasks, scratch file removed");
        Message bye{Kind::Bye, id_, done_, 0, {}};
        std::memcpy(bye.scratch, scratch_, sizeof bye.scratch);
        (void)::send(results_, &bye, sizeof bye, MSG_NOSIGNAL);   // the pool may be gone: never throws
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
int worker_main(int id, int sock) {
    WorkerState state(id, sock);
    int task;
    while (recv_msg(sock, task) && task >= 0) {   // -1 is the "stop" request
        Message m{Kind::Result, id, task, state.handle(task), {}};
        send_msg(sock, m);
    }
    return 0;
}

/// Parent side: a tiny fixed pool on one SOCK_SEQPACKET pair, used both ways (message
/// boundaries kept: several workers may read one end). Leaving early: abandon().
class Pool {
public:
    Pool() {
        int fds[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
        sock_.fd = fds[0];
        Fd theirs{fds[1]};
        std::fflush(stdout);
        try {
        for (int id = 1; id <= kWorkers; ++id) {
            pid_t pid = check(::fork(), "fork");
            if (pid == 0) {  // the child ends here, whatever happens: never in main's code
                int code = 1;
                try { sock_.reset(); code = worker_main(id, theirs.fd); }
                catch (const std::exception& e) { std::fprintf(stderr, "initializer_finalizer: worker %d: %s\n", id, e.what()); }
                std::fflush(stdout);
                // _exit, not exit: the inherited atexit handlers and static
                // destructors are the parent's business (see atexit_fork).
                ::_exit(code);
            }
            pids_.push_back(pid);
        }
        } catch (...) { abandon(); throw; }   // a constructor that throws gets no destructor
    }
    ~Pool() { abandon(); }
    Pool(const Pool&) = delete;

    void submit(int task) { send_msg(sock_.fd, task); }
    bool next(Message& m) { return recv_msg(sock_.fd, m); }

    /// Orderly shutdown: one stop request per worker, then reap them all (idle workers
    /// end by themselves). Returns how many workers exited with status 0.
    int stop() {
        for (size_t i = 0; i < pids_.size(); ++i) submit(-1);
        int clean = 0;
        for (pid_t& pid : pids_) {
            int status = 0;
            check(::waitpid(pid, &status, 0), "waitpid");
            pid = -1;   // reaped: the destructor must not signal that number
            clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        return clean;
    }
    /// Leaving early: end-of-file tells idle workers to stop (their finalizers run);
    /// one still busy after 1 s gets SIGKILL. Every worker is reaped.
    void abandon() {
        sock_.reset();
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (pid_t& pid : pids_) {
            while (pid > 0 && ::waitpid(pid, nullptr, WNOHANG) == 0) {
                if (std::chrono::steady_clock::now() < deadline) { ::usleep(5000); continue; }
                ::kill(pid, SIGKILL);
                ::waitpid(pid, nullptr, 0);
            }
            pid = -1;
        }
    }
private:
    Fd sock_;
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
