// fd_passing.cpp — sending an open file descriptor to another process over a
// Unix socket with SCM_RIGHTS. The receiver gets the same open file (same
// offset, same access mode), even though it could never have opened it itself.
// Python: no multiprocessing API for this; socket.send_fds() wraps the same call.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "fd_passing";

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
        std::fflush(stdout);
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

/// Sends one byte of ordinary data with the descriptor attached as
/// "ancillary data"; the kernel installs a duplicate in the receiver.
void send_fd(int sock, int fd) {
    char byte = 'F';                     // at least one real byte must travel
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    check(static_cast<int>(::sendmsg(sock, &msg, 0)), "sendmsg");
}

/// Returns the new descriptor number in this process.
int recv_fd(int sock) {
    char byte;
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    // MSG_CMSG_CLOEXEC: a received descriptor should not leak into exec'd programs.
    if (check(static_cast<int>(::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)), "recvmsg") == 0)
        throw std::runtime_error("recvmsg: the sender closed without sending");
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    // Trust nothing: MSG_CTRUNC means descriptors were dropped (our buffer was
    // too small; the kernel closed them), and the header must be SCM_RIGHTS at
    // SOL_SOCKET, carrying exactly one int.
    if ((msg.msg_flags & MSG_CTRUNC) || !c || c->cmsg_level != SOL_SOCKET ||
        c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        throw std::runtime_error("recvmsg: no single descriptor in the message");
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

/// An anonymous temporary file: its name is removed at once, so only
/// descriptors keep it alive and nothing is left on disk.
Fd make_anonymous_file(const std::string& content) {
    char path[] = "/tmp/fd_passing-XXXXXX";
    Fd fd(check(::mkstemp(path), "mkstemp"));
    check(::unlink(path), "unlink");
    check(static_cast<int>(::write(fd.get(), content.data(), content.size())), "write");
    check(static_cast<int>(::lseek(fd.get(), 0, SEEK_SET)), "lseek");
    return fd;
}

std::string read_line(int fd) {
    std::string line;
    char c;
    while (check(static_cast<int>(::read(fd, &c, 1)), "read") == 1 && c != '\n') line += c;
    return line;
}

int worker(int sock) {
    Fd file(recv_fd(sock));
    std::printf("child: received it as descriptor %d\n", file.get());
    std::printf("child: read \"%s\" through it\n", read_line(file.get()).c_str());
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: fd_passing\n"); return 2; }
    try {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
        Fd parent_sock(sv[0]), child_sock(sv[1]);

        // The file does not exist yet when the child is forked,
        // so the child cannot have inherited it.
        Child child([&] { parent_sock.reset(); return worker(child_sock.get()); });
        child_sock.reset();

        Fd opened = make_anonymous_file("first line\nsecond line\n");
        std::printf("parent: opened an unnamed file as descriptor %d, sending it\n", opened.get());
        std::fflush(stdout);                 // keep our line before the child's
        send_fd(parent_sock.get(), opened.get());
        bool ok = child.wait() == 0;

        // Same open file description: the child's read moved OUR offset too.
        std::string next = read_line(opened.get());
        std::printf("parent: next read gives \"%s\": the offset is shared\n", next.c_str());
        ok = ok && next == "second line";
        std::printf("%s\n", ok ? "the descriptor crossed the process boundary" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fd_passing: %s\n", e.what());
        return 1;
    }
}
