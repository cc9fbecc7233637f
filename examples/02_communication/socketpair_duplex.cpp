// socketpair_duplex.cpp - socketpair() as a two-way pipe that keeps message
// boundaries (SOCK_SEQPACKET): one send() is one recv(), no framing needed.
// Python: a, b = multiprocessing.Pipe(duplex=True); a.send(x); b.recv().
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

void send_msg(int fd, const std::string& msg) {
    check(static_cast<int>(::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL)), "send");
}

// One recv() = one whole message. Empty at end-of-file: the peer closed or
// shut down its end (our messages are never empty).
std::string recv_msg(int fd) {
    char buf[256];
    const int n = check(static_cast<int>(::recv(fd, buf, sizeof buf, 0)), "recv");
    return std::string(buf, static_cast<size_t>(n));
}

// The child answers each number with its square, on the same descriptor.
int squaring_server(int fd) {
    for (std::string msg; !(msg = recv_msg(fd)).empty();)
        send_msg(fd, std::to_string(std::stol(msg) * std::stol(msg)));
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), "socketpair");
        std::fflush(stdout);             // else the child prints our buffer again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {            // the child ends here, whatever happens
            ::close(sv[0]);          // each side keeps only its own end
            int code = 1;
            try { code = squaring_server(sv[1]); } catch (const std::exception& e) {
                std::fprintf(stderr, "socketpair_duplex (child): %s\n", e.what());
            } catch (...) {}
            _exit(code);
        }
        ::close(sv[1]);                  // a dead child now means end-of-file, not a hang
        bool ok = true;
        for (long x : {3L, 4L, 12L}) {
            send_msg(sv[0], std::to_string(x));
            const std::string reply = recv_msg(sv[0]);
            if (reply.empty()) throw std::runtime_error("the child closed its end early");
            std::printf("parent sent %ld, child replied %s on the same socket\n", x, reply.c_str());
            ok = ok && std::stol(reply) == x * x;
        }
        check(::shutdown(sv[0], SHUT_WR), "shutdown");   // "I will send no more"
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;                  // reaped
        ::close(sv[0]);
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("child saw end-of-file after shutdown(SHUT_WR) and exited: %s\n",
                    ok ? "yes" : "no");
        std::printf("%s\n", ok ? "one socketpair carried both directions" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "socketpair_duplex: %s\n", e.what());
        return 1;
    }
}
