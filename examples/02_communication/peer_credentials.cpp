// peer_credentials.cpp — who is on the other end of a Unix socket? The kernel
// knows: SO_PEERCRED gives the peer's pid, uid and gid, which it cannot forge.
// A manager (manager_by_name.cpp) serves only its own user this way.
// Python: Manager(authkey=...) proves a shared secret instead.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a descriptor: closes it once, however we leave.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { ::close(fd); }
    int fd;
};

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// An abstract address (Linux): no file, so no file permissions guard it.
sockaddr_un abstract_address(const std::string& name, socklen_t& len) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, name.data(), name.size());   // sun_path[0] = '\0'
    len = static_cast<socklen_t>(sizeof(sa_family_t) + 1 + name.size());
    return addr;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        socklen_t len = 0;
        const sockaddr_un addr = abstract_address("peer_credentials-" + std::to_string(::getpid()), len);
        const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
        Fd listener(check(::socket(AF_UNIX, SOCK_STREAM, 0), "socket"));
        check(::bind(listener.fd, sa, len), "bind");
        check(::listen(listener.fd, 1), "listen");   // before fork: no race to connect
        std::fflush(stdout);             // else the child prints our buffer again
        Child client(check(::fork(), "fork"));
        if (client.pid == 0) {           // the client: connect, then leave
            const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
            _exit(fd != -1 && ::connect(fd, sa, len) == 0 ? 0 : 1);
        }
        pollfd ready{listener.fd, POLLIN, 0};   // a client that died never connects
        if (check(::poll(&ready, 1, 5000), "poll") == 0) throw std::runtime_error("no client in 5 s");
        Fd conn(check(::accept(listener.fd, nullptr, nullptr), "accept"));
        ucred peer{};                    // filled in by the kernel at connect()
        socklen_t peer_len = sizeof peer;
        check(::getsockopt(conn.fd, SOL_SOCKET, SO_PEERCRED, &peer, &peer_len), "getsockopt");
        const bool same_pid = peer.pid == client.pid, same_uid = peer.uid == ::getuid();
        std::printf("peer pid is the client's: %s\n", same_pid ? "yes" : "no");
        std::printf("peer uid is ours: %s\n", same_uid ? "yes" : "no");
        int status = 0;
        check(::waitpid(client.pid, &status, 0), "waitpid");
        client.pid = -1;                 // reaped
        const bool ok = same_pid && same_uid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s\n", ok ? "serve this peer only if its uid is ours" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "peer_credentials: %s\n", e.what());
        return 1;
    }
}
