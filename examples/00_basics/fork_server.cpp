// fork_server.cpp - Python's "forkserver" start method, by hand.
//
// Right at start-up, while the program is still small and single-threaded,
// we fork one helper: the fork server. Later the main program (now with
// threads and lots of state) never forks itself; it sends a request over a
// Unix socket and the server forks a worker from its own clean image. Workers
// are cheap like fork and clean like spawn, and no thread is ever forked.
#include <pthread.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// State the main program builds *after* the server exists.
bool g_main_state_loaded = false;
constexpr const char* kThreadName = "main-helper";  // the thread main starts later

struct Request {
    int task_id;
    long n;
};

struct Reply {
    int task_id;
    long result;
    pid_t worker_pid;
    pid_t worker_ppid;
    bool has_main_thread;  // does main's helper thread exist in the worker?
    bool saw_main_state;
};

// Looks for a thread by name in /proc/self/task/<tid>/comm.
bool has_thread_named(const std::string& name) {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string line;
        if (std::getline(comm, line) && line == name) return true;
    }
    return false;
}

// SOCK_SEQPACKET keeps message boundaries, and each send() arrives whole,
// so several workers can write replies on one socket without mixing them.
void send_all(int fd, const void* msg, std::size_t size) {
    ssize_t n;
    while ((n = ::send(fd, msg, size, MSG_NOSIGNAL)) == -1 && errno == EINTR) {}
    check(static_cast<int>(n), "send");
}

// Returns false at end of stream (the other side closed its end).
bool recv_one(int fd, void* msg, std::size_t size) {
    ssize_t n;
    while ((n = ::recv(fd, msg, size, 0)) == -1 && errno == EINTR) {}
    check(static_cast<int>(n), "recv");
    if (n == 0) return false;
    if (static_cast<std::size_t>(n) != size) throw std::runtime_error("short message");
    return true;
}

// --- the server side (runs in the helper process) -----------------------

void run_worker(int fd, const Request& req) {
    Reply r{req.task_id, req.n * req.n, getpid(), getppid(), has_thread_named(kThreadName),
            g_main_state_loaded};
    send_all(fd, &r, sizeof r);
}

void serve(int fd) {
    Request req{};
    while (recv_one(fd, &req, sizeof req)) {
        pid_t pid = check(::fork(), "fork");  // cheap: this process is tiny
        if (pid == 0) {
            int code = 0;
            try { run_worker(fd, req); } catch (...) { code = 1; }
            _exit(code);
        }
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {}  // reap finished workers
    }
    // The main program closed its end: wait for the last workers, then stop.
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {}
}

// --- the client side (the main program) ---------------------------------

class ForkServer {
public:
    ForkServer() {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
        std::cout.flush();
        pid_ = ::fork();
        if (pid_ == -1) {
            ::close(sv[0]);
            ::close(sv[1]);
            check(-1, "fork");
        }
        if (pid_ == 0) {
            ::close(sv[0]);
            int code = 0;
            try { serve(sv[1]); } catch (...) { code = 1; }
            _exit(code);
        }
        ::close(sv[1]);
        fd_ = sv[0];
    }
    ForkServer(const ForkServer&) = delete;
    ForkServer& operator=(const ForkServer&) = delete;
    // Closing our end is the "shut down" message; then reap the server.
    ~ForkServer() {
        ::close(fd_);
        while (::waitpid(pid_, nullptr, 0) == -1 && errno == EINTR) {}
    }
    pid_t pid() const { return pid_; }
    void submit(const Request& r) { send_all(fd_, &r, sizeof r); }
    Reply next_reply() {
        Reply r{};
        if (!recv_one(fd_, &r, sizeof r)) throw std::runtime_error("fork server went away");
        return r;
    }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
};

bool run_tasks(ForkServer& server) {
    const std::vector<Request> tasks = {{1, 10}, {2, 20}, {3, 30}};
    for (const auto& t : tasks) server.submit(t);
    std::vector<Reply> replies;
    for (std::size_t i = 0; i < tasks.size(); ++i) replies.push_back(server.next_reply());
    // Workers finish in any order; sort so that the report is stable.
    std::sort(replies.begin(), replies.end(),
              [](const Reply& a, const Reply& b) { return a.task_id < b.task_id; });
    bool ok = true;
    for (const auto& r : replies) {
        const bool child_of_server = r.worker_ppid == server.pid();
        std::cout << "task " << r.task_id << ": result " << r.result << ", worker pid "
                  << r.worker_pid << ", parent is the fork server: "
                  << (child_of_server ? "yes" : "no") << ", has main's thread: "
                  << (r.has_main_thread ? "yes" : "no") << ", sees main's state: "
                  << (r.saw_main_state ? "yes" : "no") << '\n';
        ok = ok && child_of_server && !r.has_main_thread && !r.saw_main_state &&
             r.result == tasks[static_cast<std::size_t>(r.task_id - 1)].n *
                             tasks[static_cast<std::size_t>(r.task_id - 1)].n;
    }
    return ok;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        ForkServer server;  // first thing: while we are small and single-threaded
        std::cout << "fork server started (pid " << server.pid() << ")\n";

        // Now the main program grows: state, and a second thread.
        g_main_state_loaded = true;
        std::jthread helper([](std::stop_token stop) {
            while (!stop.stop_requested())
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
        });
        if (int err = ::pthread_setname_np(helper.native_handle(), kThreadName))
            throw std::system_error(err, std::generic_category(), "pthread_setname_np");
        std::cout << "main program started thread \"" << kThreadName
                  << "\" (present in main: "
                  << (has_thread_named(kThreadName) ? "yes" : "no")
                  << ") and loaded its state\n";

        const bool ok = run_tasks(server);
        std::cout << (ok ? "ok" : "FAILED")
                  << ": every worker came from the single-threaded server, not from main\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
