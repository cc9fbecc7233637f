// custom_context.cpp — choosing the start method at run time.
//
// Python: ctx = multiprocessing.get_context("spawn"); ctx.Process(...).
// Here a Context is an object with start(task) and join(); three kinds exist:
//   fork        the child is a copy of the parent right now (fast, inherits all)
//   spawn       fork + exec("/proc/self/exe"): a fresh image, state from argv only
//   forkserver  a clean helper forked at start-up forks the workers on request
// Usage: custom_context [--method=fork|spawn|forkserver]   (no argument: all three)
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {


std::string g_setting = "initial";   // main changes it at run time

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

int wait_status(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1)
        if (errno != EINTR) return -1;
    return status;
}

/// The work itself, the same under every start method: report who we are and
/// what run-time state we can see. One write(): the line arrives whole.
void worker_body(int task, int out_fd) {
    char line[160];
    int n = std::snprintf(line, sizeof line, "%d %d %d %s\n", task, static_cast<int>(::getpid()),
                          static_cast<int>(::getppid()), g_setting.c_str());
    if (::write(out_fd, line, static_cast<size_t>(n)) != n) ::_exit(1);
}

class Context {
public:
    virtual ~Context() = default;
    virtual const char* name() const = 0;
    virtual void start(int task, int out_fd) = 0;
    /// Waits for every started worker; returns how many failed.
    virtual int join() = 0;
};

class ForkContext : public Context {
public:
    ~ForkContext() override {  // left early: kill and reap the workers not joined
        for (pid_t pid : pids_) { ::kill(pid, SIGKILL); wait_status(pid); }
    }
    const char* name() const override { return "fork"; }
    void start(int task, int out_fd) override {
        std::fflush(stdout);
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) { worker_body(task, out_fd); ::_exit(0); }
        pids_.push_back(pid);
    }
    int join() override {
        int failed = 0;
        for (pid_t pid : pids_) { int s = wait_status(pid); failed += !(WIFEXITED(s) && WEXITSTATUS(s) == 0); }
        pids_.clear();
        return failed;
    }
protected:
    std::vector<pid_t> pids_;
};

class SpawnContext : public ForkContext {
public:
    const char* name() const override { return "spawn"; }
    void start(int task, int out_fd) override {
        std::string t = std::to_string(task), fd = std::to_string(out_fd);
        char* argv[] = {const_cast<char*>("custom_context"), const_cast<char*>("--worker"),
                        t.data(), fd.data(), nullptr};
        std::fflush(stdout);
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) {
            ::execv("/proc/self/exe", argv);   // a brand-new image of this program
            ::_exit(127);
        }
        pids_.push_back(pid);
    }
};

/// Sends `value`, and the descriptor `fd` if it is >= 0, over a Unix socket.
/// The kernel installs a duplicate of the descriptor in the receiver (SCM_RIGHTS).
void send_with_fd(int sock, int value, int fd) {
    char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{&value, sizeof value};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    check(static_cast<int>(::sendmsg(sock, &msg, MSG_NOSIGNAL)), "sendmsg");
}

/// Receives what send_with_fd sent; returns false at EOF.
bool recv_with_fd(int sock, int& value, int& fd) {
    char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{&value, sizeof value};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) return false;
    fd = -1;
    if (cmsghdr* c = CMSG_FIRSTHDR(&msg); c && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return true;
}

/// The fork server's loop: a task >= 0 starts a worker; -1 means "join": wait
/// for every worker and send back how many failed. EOF ends the server.
[[noreturn]] void fork_server(int sock) {
    std::vector<pid_t> workers;
    int task, fd;
    while (recv_with_fd(sock, task, fd)) {
        if (task >= 0) {
            pid_t pid = ::fork();
            if (pid == 0) { worker_body(task, fd); ::_exit(0); }
            if (fd >= 0) ::close(fd);
            if (pid > 0) workers.push_back(pid);
            if (pid == -1) {  // the server reports it, and the join counts it as a failure
                std::fprintf(stderr, "custom_context: fork server: fork: %s\n", std::strerror(errno));
                workers.push_back(-1);
            }
            continue;
        }
        if (fd >= 0) ::close(fd);
        int failed = 0;
        for (pid_t pid : workers) {
            int s = pid == -1 ? -1 : wait_status(pid);
            failed += !(s != -1 && WIFEXITED(s) && WEXITSTATUS(s) == 0);
        }
        workers.clear();
        if (::send(sock, &failed, sizeof failed, MSG_NOSIGNAL) == -1) ::_exit(1);
    }
    ::_exit(0);
}

class ForkServerContext : public Context {
public:
    /// Create it early, while the program is small and single-threaded.
    ForkServerContext() {
        int fds[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
        Fd mine(fds[0]), theirs(fds[1]);
        std::fflush(stdout);
        server_ = check(::fork(), "fork");
        if (server_ == 0) { mine.reset(); fork_server(theirs.get()); }
        sock_ = std::move(mine);
    }
    ~ForkServerContext() override {
        sock_.reset();           // EOF tells the server to exit
        wait_status(server_);
    }
    const char* name() const override { return "forkserver"; }
    void start(int task, int out_fd) override { send_with_fd(sock_.get(), task, out_fd); }
    int join() override {
        send_with_fd(sock_.get(), -1, -1);   // task -1: "join", no descriptor
        int failed = 1;
        if (::recv(sock_.get(), &failed, sizeof failed, 0) != sizeof failed) return 1;
        return failed;
    }
    pid_t server_pid() const { return server_; }
private:
    pid_t server_ = -1;
    Fd sock_;
};

struct Report { int task, pid, ppid; std::string setting; };

/// Runs two tasks under `ctx`; returns what the workers reported, by task.
std::vector<Report> run_tasks(Context& ctx, int& failed) {
    int fds[2];
    check(::pipe(fds), "pipe");   // inheritable: spawned workers write to it
    Fd read_end(fds[0]), write_end(fds[1]);
    for (int task = 1; task <= 2; ++task) ctx.start(task, write_end.get());
    write_end.reset();
    failed = ctx.join();
    std::string text;
    char buf[512];
    ssize_t n;
    while ((n = ::read(read_end.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    std::vector<Report> out;
    for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
        Report r{};
        char setting[64] = {};
        if (std::sscanf(text.substr(at, end - at).c_str(), "%d %d %d %63[^\n]", &r.task, &r.pid, &r.ppid, setting) == 4) {
            r.setting = setting;
            out.push_back(r);
        }
    }
    std::sort(out.begin(), out.end(), [](const Report& a, const Report& b) { return a.task < b.task; });
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::strcmp(argv[1], "--worker") == 0) {   // a spawned worker
        worker_body(std::atoi(argv[2]), std::atoi(argv[3]));
        return 0;
    }
    try {
    std::vector<std::string> methods = {"fork", "spawn", "forkserver"};   // default first
    if (argc == 2 && std::strncmp(argv[1], "--method=", 9) == 0 &&
        std::find(methods.begin(), methods.end(), argv[1] + 9) != methods.end()) {
        methods = {argv[1] + 9};
    } else if (argc > 1) {
        std::fprintf(stderr, "usage: custom_context [--method=fork|spawn|forkserver]\n");
        return 2;
    }

    // Like Python, the fork server starts before the program changes its state.
    ForkServerContext forkserver;
    ForkContext fork_ctx;
    SpawnContext spawn_ctx;
    g_setting = "changed at run time";
    const pid_t main_pid = ::getpid();
    std::printf("main (pid %d) set g_setting = \"%s\"\n", static_cast<int>(main_pid), g_setting.c_str());

    bool ok = true;
    for (const auto& method : methods) {
        Context& ctx = method == "fork" ? static_cast<Context&>(fork_ctx)
                     : method == "spawn" ? static_cast<Context&>(spawn_ctx)
                                         : static_cast<Context&>(forkserver);
        std::printf("context '%s'%s:\n", ctx.name(), method == "fork" ? " (the default)" : "");
        int failed = 0;
        auto reports = run_tasks(ctx, failed);
        // What each start method must show.
        bool copies_state = method == "fork";
        pid_t expected_parent = method == "forkserver" ? forkserver.server_pid() : main_pid;
        bool good = failed == 0 && reports.size() == 2;
        for (const auto& r : reports) {
            std::printf("  task %d: pid %d, parent %s, g_setting = \"%s\"\n", r.task, r.pid,
                        r.ppid == main_pid ? "main" : r.ppid == forkserver.server_pid() ? "fork server" : "?",
                        r.setting.c_str());
            good = good && r.ppid == expected_parent &&
                   (r.setting == "changed at run time") == copies_state;
        }
        std::printf("  %s: %s\n", good ? "ok" : "FAIL",
                    copies_state ? "the child copied main's state at the moment of fork()"
                                 : "the child started from a clean image, not main's current state");
        ok = ok && good;
    }
    return ok ? 0 : 1;
    } catch (const std::exception& e) {  // the contexts' destructors have reaped every child
        std::fflush(stdout);
        std::fprintf(stderr, "custom_context: %s\n", e.what());
        return 1;
    }
}
