// listener_peercred.cpp - who is on the other end? Over a Unix socket the kernel
// says: SO_PEERCRED gives the peer's pid, uid and gid, recorded at connect(). Over
// TCP it knows no process, and getpeername() gives only an address.
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
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
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }  // movable, so not copyable
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

Fd listening(sockaddr* a, socklen_t* n) {  // Py: Listener(address); port 0: the kernel picks
    Fd s(check(::socket(a->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    check(::bind(s.fd, a, *n), "bind");
    check(::getsockname(s.fd, a, n), "getsockname");
    check(::listen(s.fd, 8), "listen");
    return s;
}
int accept_within(int listener, int ms) {  // Py: listener.accept(), but never for ever
    pollfd p{listener, POLLIN, 0};
    if (check(::poll(&p, 1, ms), "poll") == 0) throw std::runtime_error("no client within 5 s");
    return check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4");
}
ucred peer_credentials(int conn) {  // filled in by the kernel, not sent by the peer
    ucred cred{};
    socklen_t n = sizeof cred;
    check(::getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &n), "getsockopt");
    return cred;
}

int run() {
    sockaddr_un ua{AF_UNIX, {}};  // an abstract name (a leading '\0'): no file to unlink
    const std::string name = "listener_peercred." + std::to_string(::getpid());
    std::memcpy(ua.sun_path + 1, name.data(), name.size());
    auto ulen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    sockaddr_in ta{AF_INET, 0, {htonl(INADDR_LOOPBACK)}, {}};
    socklen_t tlen = sizeof ta;
    const Fd ul = listening(reinterpret_cast<sockaddr*>(&ua), &ulen);
    const Fd tl = listening(reinterpret_cast<sockaddr*>(&ta), &tlen);
    std::cout.flush();
    Child client(check(::fork(), "fork"));
    if (client.pid == 0) {  // the client connects to both, then ends: whatever happens, here
        int code = 1;
        try {
            Fd u(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            check(::connect(u.fd, reinterpret_cast<sockaddr*>(&ua), ulen), "connect");
            Fd t(check(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
            check(::connect(t.fd, reinterpret_cast<sockaddr*>(&ta), tlen), "connect");
            code = 0;
        } catch (...) {}
        _exit(code);  // its sockets close; what the kernel recorded at connect() stays
    }
    const Fd uc(accept_within(ul.fd, 5000)), tc(accept_within(tl.fd, 5000));
    // Read before the client is reaped: until then its pid is nobody else's.
    const ucred u = peer_credentials(uc.fd), t = peer_credentials(tc.fd);
    sockaddr_in from{};  // TCP: who connected, as far as the network says
    socklen_t n = sizeof from;
    check(::getpeername(tc.fd, reinterpret_cast<sockaddr*>(&from), &n), "getpeername");
    const bool unix_named = u.pid == client.pid && u.uid == ::getuid() && u.gid == ::getgid();
    std::cout << "unix: SO_PEERCRED says pid " << u.pid << ", uid " << u.uid << ", gid " << u.gid
              << "; the client we forked is pid " << client.pid << (unix_named ? " ✓" : " ✗") << '\n';
    std::cout << "tcp:  SO_PEERCRED says pid " << t.pid << ", uid " << static_cast<int>(t.uid)
              << ": no process known" << (t.pid == 0 ? " ✓" : " ✗") << '\n';
    const bool loopback = from.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
    std::cout << "tcp:  getpeername says " << ::inet_ntoa(from.sin_addr) << ':' << ntohs(from.sin_port)
              << ": an address, which proves nothing" << (loopback ? " ✓" : " ✗") << '\n';
    int status = 0;
    check(::waitpid(client.pid, &status, 0), "waitpid");  // it ends by itself
    client.pid = -1;
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::cout << "client exit status 0: " << (clean ? "yes" : "NO") << '\n';
    return unix_named && t.pid == 0 && loopback && clean ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << "listener_peercred: " << e.what() << '\n';
        return 1;
    }
}
