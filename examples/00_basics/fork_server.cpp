// fork_server.cpp - Python's "forkserver" start method, by hand. At start-up,
// while the program is still small and single-threaded, it forks one helper:
// the fork server. Later the main program (with threads and state by then)
// never forks itself: it sends a request over a Unix socket, and the server
// forks a worker from its own clean image. No thread is ever forked.
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns one descriptor.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};

bool g_main_state_loaded = false;  // state the main program builds after the fork

struct Request { long n; };
struct Reply { long result; pid_t worker_ppid; bool saw_main_state, has_main_thread; };

constexpr const char* kThreadName = "main-helper";  // the thread main starts later

bool has_thread_named(const char* name) {  // looks in /proc/self/task/<tid>/comm
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm");
        std::string line;
        if (std::getline(comm, line) && line == name) return true;
    }
    return false;
}

// ANCHOR: server
// SOCK_SEQPACKET keeps message boundaries: each send() arrives whole, so all
// workers can reply on the one socket they inherit without mixing replies.
void send_msg(int fd, const void* msg, std::size_t size) {
    check(static_cast<int>(::send(fd, msg, size, MSG_NOSIGNAL)), "send");
}
bool recv_msg(int fd, void* msg, std::size_t size) {  // false: the other side closed
    const ssize_t n = check(static_cast<int>(::recv(fd, msg, size, 0)), "recv");
    if (n != 0 && static_cast<std::size_t>(n) != size)
        throw std::runtime_error("short message");
    return n != 0;
}

// The server's loop: one worker per request, until the main program hangs up.
int serve(int fd) {
    Request req{};
    while (recv_msg(fd, &req, sizeof req)) {
        const pid_t pid = check(::fork(), "fork");  // cheap: this process is tiny
        if (pid == 0) {  // the worker ends here, whatever happens
            int code = 1;
            try {
                const Reply r{req.n * req.n, getppid(), g_main_state_loaded,
                              has_thread_named(kThreadName)};
                send_msg(fd, &r, sizeof r);
                code = 0;
            } catch (...) {}
            _exit(code);
        }
        // Reap it. If it died without replying, stop: the server's exit closes
        // the socket, and main sees end-of-file instead of waiting for ever.
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("a worker failed");
    }
    return 0;  // main hung up
}
// ANCHOR_END: server

// ANCHOR: client
// The main program's handle. stop() hangs up and reaps the server; if we
// leave early instead, the destructor kills and reaps it.
class ForkServer {
public:
    ForkServer() {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
        Fd ours(sv[0]), theirs(sv[1]);
        std::cout.flush();  // else the server inherits our buffer and prints it again
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the server ends here, whatever happens
            ::close(ours.fd);  // or it would never see the main program hang up
            int code = 1;
            try { code = serve(theirs.fd); } catch (const std::exception& e) {
                std::cerr << "fork_server: server: " << e.what() << '\n';
            }
            _exit(code);
        }
        fd_ = std::exchange(ours.fd, -1);
    }
    ForkServer(const ForkServer&) = delete;
    ~ForkServer() {
        if (fd_ != -1) ::close(fd_);
        if (pid_ > 0 && ::kill(pid_, SIGKILL) == 0) ::waitpid(pid_, nullptr, 0);
    }
    pid_t pid() const { return pid_; }
    Reply run(long n) {
        const Request req{n};
        send_msg(fd_, &req, sizeof req);
        Reply r{};  // if the server died, its socket end is closed: EOF, not a hang
        if (!recv_msg(fd_, &r, sizeof r))
            throw std::runtime_error("the fork server went away");
        return r;
    }
    bool stop() {  // hang up: the server sees EOF, reaps its workers, exits 0
        ::close(std::exchange(fd_, -1));
        int status = 0;
        check(::waitpid(pid_, &status, 0), "waitpid");
        pid_ = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
};
// ANCHOR_END: client

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // ANCHOR: main
        ForkServer server;  // first thing: while we are small and single-threaded
        g_main_state_loaded = true;  // now the main program grows: state, a thread
        std::jthread helper([](std::stop_token stop) {
            while (!stop.stop_requested())
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
        });
        if (int err = ::pthread_setname_np(helper.native_handle(), kThreadName))
            throw std::system_error(err, std::generic_category(), "pthread_setname_np");
        std::cout << "main: thread \"" << kThreadName << "\" started "
                  << (has_thread_named(kThreadName) ? "✓" : "✗") << ", state loaded\n";

        bool ok = true;
        for (long n : {10, 20, 30}) {
            const Reply r = server.run(n);
            const bool clean =
                r.worker_ppid == server.pid() && !r.has_main_thread && !r.saw_main_state;
            std::cout << "task " << n << " -> " << r.result
                      << ": worker of the server, without main's thread and state "
                      << (clean ? "✓" : "✗") << '\n';
            ok = ok && clean && r.result == n * n;
        }
        const bool stopped = server.stop();
        std::cout << "server stopped with exit code 0 " << (stopped ? "✓" : "✗") << '\n';
        return (ok && stopped) ? 0 : 1;
        // ANCHOR_END: main
    } catch (const std::exception& e) {
        std::cerr << "fork_server: " << e.what() << '\n';
        return 1;
    }
}
