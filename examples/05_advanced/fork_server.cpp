// fork_server.cpp — workers forked by a clean helper, not by main.
//
// Python: get_context("forkserver"). A helper is forked first, while the program is
// small and single-threaded; later main sends it tasks and a descriptor over a Unix
// socket, and it forks the workers: copies of the program at start-up, not of main now.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

namespace {

std::string g_setting = "initial";   // main changes it after the server has started

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct Fd {
    ~Fd() { close(); }
    void close() { if (fd >= 0) ::close(fd); fd = -1; }
    int fd = -1;
};

/// Sends a task and a descriptor over a Unix socket: the kernel installs a
/// duplicate of `fd` in the receiver (SCM_RIGHTS), as Python's forkserver does.
void send_task(int sock, int task, int fd) {
    char control[CMSG_SPACE(sizeof(int))] = {};
    iovec iov{&task, sizeof task};
    msghdr msg{.msg_name = nullptr, .msg_namelen = 0, .msg_iov = &iov, .msg_iovlen = 1,
               .msg_control = control, .msg_controllen = sizeof control, .msg_flags = 0};
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    check(static_cast<int>(::sendmsg(sock, &msg, MSG_NOSIGNAL)), "sendmsg");
}

/// The server: fork one worker per task until main closes the socket, then reap
/// them all; its exit status says whether every worker succeeded.
/// noexcept, no allocation: nothing here can unwind into main's code.
[[noreturn]] void serve(int sock) noexcept {
    int task, failed = 0, status;
    char control[CMSG_SPACE(sizeof(int))];
    iovec iov{&task, sizeof task};
    for (cmsghdr* c;;) {
        msghdr msg{.msg_name = nullptr, .msg_namelen = 0, .msg_iov = &iov, .msg_iovlen = 1,
                   .msg_control = control, .msg_controllen = sizeof control, .msg_flags = 0};
        if (::recvmsg(sock, &msg, 0) <= 0 || !(c = CMSG_FIRSTHDR(&msg))) break;  // main is done
        int out_fd;
        std::memcpy(&out_fd, CMSG_DATA(c), sizeof out_fd);
        pid_t pid = ::fork();
        if (pid == 0) {  // the worker: a copy of the server, so of the program at start-up
            char line[128];
            int n = std::snprintf(line, sizeof line, "task %d: parent %d, g_setting = \"%s\"\n", task,
                                  static_cast<int>(::getppid()), g_setting.c_str());
            ::_exit(::write(out_fd, line, static_cast<size_t>(n)) == n ? 0 : 1);
        }
        if (pid == -1) { ++failed; std::fprintf(stderr, "fork_server: server: fork: %s\n", std::strerror(errno)); }
        ::close(out_fd);
    }
    while (::wait(&status) > 0) failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ::_exit(failed == 0 ? 0 : 1);
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: fork_server\n");
        return 2;
    }
    try {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
        Fd sock{sv[0]}, theirs{sv[1]};
        std::fflush(stdout);
        Child server(check(::fork(), "fork"));   // first, while the program is still clean
        if (server.pid == 0) { ::close(sock.fd); serve(theirs.fd); }  // main's end: only main holds it
        theirs.close();
        g_setting = "changed at run time";
        std::printf("main (pid %d) set g_setting = \"%s\"; the server is pid %d\n",
                    static_cast<int>(::getpid()), g_setting.c_str(), static_cast<int>(server.pid));
        int fds[2];
        check(::pipe(fds), "pipe");
        Fd results{fds[0]}, out{fds[1]};
        for (int task = 1; task <= 2; ++task) send_task(sock.fd, task, out.fd);
        out.close();   // the server closes its copies too: end-of-file follows the reports
        sock.close();  // end-of-file on the socket: the server reaps its workers and exits
        std::string text;
        char buf[256];
        for (ssize_t n; (n = ::read(results.fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
        std::fputs(text.c_str(), stdout);
        int status = 0;
        check(::waitpid(server.pid, &status, 0), "waitpid");
        std::string parent = "parent " + std::to_string(server.pid) + ", g_setting = \"initial\"";
        server.pid = -1;
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  text.find("task 1: " + parent) != std::string::npos &&
                  text.find("task 2: " + parent) != std::string::npos;
        std::printf("%s\n", ok ? "ok: each worker is a child of the server and saw the program's start-up state"
                               : "FAIL: a worker did not come from the fork server's clean copy");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "fork_server: %s\n", e.what());
        return 1;
    }
}
