// initializer_finalizer.cpp — per-worker set-up and tear-down in a process pool.
//
// Python: Pool(initializer=f, initargs=...) runs f once in every worker; there
// is no finalizer, and pool workers leave with os._exit(), so atexit does not
// run in them. In C++ the worker's state is an object: its constructor is the
// initializer and its destructor the finalizer (RAII), and it runs on every
// orderly way out of the worker's main function.
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
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

/// One worker's temporary file, with an owner of its own: if WorkerState's constructor
/// throws after making it, WorkerState gets no destructor, but this member still does.
struct ScratchFile {
    explicit ScratchFile(int id) {
        std::snprintf(path, sizeof path, "/tmp/ch05-worker%d-XXXXXX", id);
        fd = check(::mkstemp(path), "mkstemp");
    }
    ~ScratchFile() { remove(); }
    ScratchFile(const ScratchFile&) = delete;
    void remove() { if (fd >= 0) { ::close(fd); ::unlink(path); } fd = -1; }
    char path[64];
    int fd = -1;
};

/// Everything one worker sets up once and tears down once.
/// Constructor = Python's initializer; destructor = the finalizer Python lacks.
class WorkerState {
public:
    // The "expensive" set-up: a scratch file and a lookup table.
    WorkerState(int id, int results) : id_(id), results_(results), scratch_(id) {
        for (long i = 0; i < 100; ++i) squares_.push_back(i * i);
        say("initializer: scratch file and lookup table ready");
        tell(Kind::Hello);   // the parent submits no task before every worker said hello
    }
    ~WorkerState() {
        // Runs on return and on exceptions alike; not on SIGKILL, the last resort of
        // Pool::abandon() for a worker still busy a second after the pool was given up.
        scratch_.remove();
        say("finalizer: did " + std::to_string(done_) + " tasks, scratch file removed");
        tell(Kind::Bye);
    }
    WorkerState(const WorkerState&) = delete;
    WorkerState& operator=(const WorkerState&) = delete;

    long handle(int task) {
        ++done_;
        return squares_.at(static_cast<size_t>(task));
    }
private:
    void tell(Kind kind) const {   // never throws: a destructor calls it, and the pool may be gone
        Message m{kind, id_, done_, 0, {}};
        std::memcpy(m.scratch, scratch_.path, sizeof m.scratch);
        (void)::send(results_, &m, sizeof m, MSG_NOSIGNAL);
    }
    void say(const std::string& text) const {
        std::printf("  worker %d (pid %d) %s\n", id_, static_cast<int>(::getpid()), text.c_str());
        std::fflush(stdout);   // one write per line: lines from workers never mix
    }
    int id_, results_;
    int done_ = 0;
    ScratchFile scratch_;
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
        pids_.reserve(kWorkers);   // push_back after a fork must not throw
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
    /// The next message from any worker. A worker that died (in its initializer, say)
    /// sends nothing, and the others still hold the socket: so wait 5 s at most.
    bool next(Message& m) {
        pollfd p{sock_.fd, POLLIN, 0};
        if (check(::poll(&p, 1, 5000), "poll") == 0) throw std::runtime_error("no word from the workers for 5 s");
        return recv_msg(sock_.fd, m);
    }

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
        const long expected = (kTasks - 1) * kTasks * (2 * kTasks - 1) / 6;   // 0² + 1² + ... + 8²
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
