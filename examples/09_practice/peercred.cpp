// peercred.cpp - who is on the other end of a Unix socket? getsockopt(SO_PEERCRED)
// returns the peer's PID, UID and GID as the kernel recorded them at connect():
// the peer cannot lie about them. A server decides whom to serve from them.
// The socket has an abstract name (a leading '\0'): no file to leave behind.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
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

// Owns a descriptor.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { ::close(fd); }
    int fd;
};

// "\0peercred-<pid>": abstract namespace, unique per run.
sockaddr_un address() {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    const std::string name = "peercred-" + std::to_string(::getpid());
    std::memcpy(a.sun_path + 1, name.data(), name.size());
    return a;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        const sockaddr_un addr = address();
        Fd server(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
        check(::bind(server.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), "bind");
        check(::listen(server.fd, 1), "listen");
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child client(check(::fork(), "fork"));
        if (client.pid == 0) {  // the client: connects and ends
            const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
            const bool ok = s != -1 && ::connect(s, reinterpret_cast<const sockaddr*>(&addr),
                                                 sizeof addr) == 0 && ::write(s, "hi", 2) == 2;
            _exit(ok ? 0 : 1);
        }
        pollfd ready{server.fd, POLLIN, 0};  // bounded: the client may die before connecting
        if (check(::poll(&ready, 1, 5000), "poll") == 0)
            throw std::runtime_error("no client connected within 5 s");
        Fd conn(check(::accept(server.fd, nullptr, nullptr), "accept"));
        ucred peer{};
        socklen_t len = sizeof peer;
        check(::getsockopt(conn.fd, SOL_SOCKET, SO_PEERCRED, &peer, &len), "getsockopt");
        const bool is_child = peer.pid == client.pid;
        const bool same_user = peer.uid == ::getuid();
        std::cout << "peer: pid " << (is_child ? "= the child we forked ✓" : "unexpected ✗")
                  << ", uid " << peer.uid << ", gid " << peer.gid << '\n'
                  << "policy \"same user only\": "
                  << (same_user ? "served ✓" : "refused") << '\n';
        int status = 0;
        check(::waitpid(client.pid, &status, 0), "waitpid");  // the client ends by itself
        client.pid = -1;
        return is_child && same_user && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "peercred: " << e.what() << '\n';
        return 1;
    }
}
