// socketpair_duplex.cpp — socketpair() as a two-way pipe with message boundaries.
// Python: a, b = multiprocessing.Pipe(duplex=True); a.send(x); b.recv().
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "socketpair_duplex";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ != -1) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);             // the child must not inherit buffered text
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try { rc = body(); } catch (const std::exception& e) {
                std::fprintf(stderr, "%s (child): %s\n", program, e.what());
            } catch (...) {}
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

// SOCK_SEQPACKET keeps message boundaries: one send() is one recv(),
// just like Connection.send()/recv() in Python.
void send_msg(int fd, const std::string& msg) {
    check(static_cast<int>(::send(fd, msg.data(), msg.size(), 0)), "send");
}

/// Returns false at end-of-file (the peer closed or shut down its end).
bool recv_msg(int fd, std::string& msg) {
    char buf[256];
    ssize_t n;
    do { n = ::recv(fd, buf, sizeof buf, 0); } while (n == -1 && errno == EINTR);
    check(static_cast<int>(n), "recv");
    msg.assign(buf, static_cast<size_t>(n));
    return n > 0;
}

// The child answers each number with its square, on the same descriptor.
int squaring_server(int fd) {
    std::string msg;
    while (recv_msg(fd, msg))
        send_msg(fd, std::to_string(std::stol(msg) * std::stol(msg)));
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: socketpair_duplex\n"); return 2; }
    try {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), "socketpair");
        Fd parent_end(sv[0]), child_end(sv[1]);

        Child server([&] { parent_end.reset(); return squaring_server(child_end.get()); });
        child_end.reset();                   // each side keeps only its own end

        bool ok = true;
        for (long x : {3L, 4L, 12L}) {
            send_msg(parent_end.get(), std::to_string(x));
            std::string reply;
            if (!recv_msg(parent_end.get(), reply)) { ok = false; break; }
            std::printf("parent sent %ld, child replied %s on the same socket\n", x, reply.c_str());
            ok = ok && std::stol(reply) == x * x;
        }
        // "I will send no more": the child's recv() returns 0 and it exits.
        check(::shutdown(parent_end.get(), SHUT_WR), "shutdown");
        int status = server.wait();
        std::printf("child saw EOF after shutdown(SHUT_WR) and exited with status %d\n", status);
        ok = ok && status == 0;
        std::printf("%s\n", ok ? "one socketpair carried both directions" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "socketpair_duplex: %s\n", e.what());
        return 1;
    }
}
