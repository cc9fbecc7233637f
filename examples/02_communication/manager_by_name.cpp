// manager_by_name.cpp — a manager process that clients reach by name, as
// Python's do (m.address): a Unix socket in Linux's abstract namespace. Such a
// socket has no file permissions, so the manager checks who connected.
// Python: m = Manager(authkey=...); l = m.list(); l.append(x); m.shutdown()
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // closes once, however we leave
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool reap_ok() {  // for a child that ends by itself
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");
        pid = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    pid_t pid;
};

template <class Body> pid_t start(Body body) {
    std::fflush(stdout);
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {  // the child ends here, whatever happens: never in main's code
        int code = 1;
        try { code = body(); } catch (const std::exception& e) {
            std::fprintf(stderr, "manager_by_name (child): %s\n", e.what());
        }
        _exit(code);
    }
    return pid;
}

// The name starts with '\0': it never appears in the file system, so there is
// no socket file to remove -- and no file permissions to keep anyone out.
struct Address {
    explicit Address(const std::string& name) {
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path + 1, name.data(), name.size());
        len = static_cast<socklen_t>(sizeof(sa_family_t) + 1 + name.size());
    }
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&addr); }
    sockaddr_un addr{};
    socklen_t len = 0;
};

/// Any local process may connect to an abstract socket and send "shutdown".
/// Python demands an authkey; here the kernel says who connected (SO_PEERCRED,
/// recorded at connect(), not forgeable) and we serve only our own user.
bool same_user(int fd) {
    ucred peer{};
    socklen_t len = sizeof peer;
    check(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len), "getsockopt(SO_PEERCRED)");
    return peer.uid == ::getuid();
}

// SOCK_SEQPACKET keeps boundaries: one send() is one request or one reply.
void send_msg(int fd, const std::string& m) {
    check(static_cast<int>(::send(fd, m.data(), m.size(), MSG_NOSIGNAL)), "send");
}
std::string recv_msg(int fd) {  // "" at end-of-file: the other side is gone
    char buf[256];
    return std::string(buf, static_cast<size_t>(check(static_cast<int>(::recv(fd, buf, sizeof buf, 0)), "recv")));
}

/// The manager owns the list. It serves one connection at a time, enough for
/// clients that make a call and leave (manager_dict polls many at once).
int serve(int listener) {
    std::vector<std::string> list;
    for (;;) {
        Fd conn(check(::accept(listener, nullptr, nullptr), "accept"));
        if (!same_user(conn.fd)) continue;  // a stranger: no service, not even "shutdown"
        for (std::string req; !(req = recv_msg(conn.fd)).empty();) {
            if (req == "shutdown") { send_msg(conn.fd, "ok"); return 0; }
            if (req.rfind("append ", 0) == 0) list.push_back(req.substr(7));
            send_msg(conn.fd, std::to_string(list.size()));  // every reply: len(l)
        }
    }
}

/// Each process opens its own connection: two sharing one would read each
/// other's replies. Python's proxies do the same.
std::string call(const Address& manager, const std::string& request) {
    Fd sock(check(::socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket"));
    check(::connect(sock.fd, manager.get(), manager.len), "connect");
    send_msg(sock.fd, request);
    std::string reply = recv_msg(sock.fd);
    if (reply.empty()) throw std::runtime_error("the manager is gone");
    return reply;
}

constexpr int clients = 3;

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: manager_by_name\n"); return 2; }
    try {
        // Listen BEFORE forking the manager: clients can connect at once, no race.
        const Address manager("manager_by_name-" + std::to_string(::getpid()));
        Fd listener(check(::socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket"));
        check(::bind(listener.fd, manager.get(), manager.len), "bind");
        check(::listen(listener.fd, 16), "listen");
        Child server(start([&] { return serve(listener.fd); }));
        listener.reset();  // only the manager listens: if it dies, connect() is refused
        std::deque<Child> workers;  // a deque never moves its elements
        for (int id = 0; id < clients; ++id)
            workers.emplace_back(start([&manager, id] {
                call(manager, "append client " + std::to_string(id) + " was here");
                return 0;
            }));
        bool ok = true;
        for (Child& w : workers) ok = w.reap_ok() && ok;
        const std::string items = call(manager, "len");
        std::printf("list has %s items (expected %d)\n", items.c_str(), clients);
        call(manager, "shutdown");
        ok = server.reap_ok() && ok && items == std::to_string(clients);
        std::printf("%s\n", ok ? "manager shut down cleanly" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "manager_by_name: %s\n", e.what());
        return 1;
    }
}
