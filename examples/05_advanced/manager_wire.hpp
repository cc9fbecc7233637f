// ANCHOR: owners
// manager_wire.hpp - what the two manager programs share: the owners, messages
// framed as Python's Connection frames them, the socket's address, and a server
// process that serves many clients, one request at a time.
#pragma once
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd, o.fd); return *this; }  // vector::erase moves
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {  // kills and reaps a server or worker still running when main leaves
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
inline int reap(Child& c) {  // for a child that ends by itself: its exit code
    int status = 0;
    check(::waitpid(c.pid, &status, 0), "waitpid");
    c.pid = -1;  // reaped: the pid may soon be someone else's
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
inline void say(const std::string& line) { std::cout << line << std::endl; }  // flushed: two writers
// ANCHOR_END: owners
// ANCHOR: frames
struct ProtocolError : std::runtime_error { using std::runtime_error::runtime_error; };
constexpr std::uint32_t max_message = 4096;
inline void send_msg(int fd, const std::string& m) {  // a 4-byte length, then the bytes
    const std::uint32_t len = htonl(static_cast<std::uint32_t>(m.size()));
    const std::string frame = std::string(reinterpret_cast<const char*>(&len), 4) + m;
    check(static_cast<int>(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL)), "send");  // EPIPE, not SIGPIPE
}
inline std::size_t recv_all(int fd, char* p, std::size_t n) {  // < n: the peer closed
    const ssize_t k = ::recv(fd, p, n, MSG_WAITALL);
    if (k == -1 && errno == EAGAIN) throw ProtocolError("peer silent for too long");
    return static_cast<std::size_t>(check(static_cast<int>(k), "recv"));
}
inline std::string recv_msg(int fd) {
    std::uint32_t len = 0;
    if (recv_all(fd, reinterpret_cast<char*>(&len), 4) < 4) throw ProtocolError("peer closed");
    if (len = ntohl(len); len > max_message)  // before allocating: the length is the peer's word
        throw ProtocolError("message of " + std::to_string(len) + " bytes refused");
    std::string m(len, '\0');
    if (const std::size_t got = recv_all(fd, m.data(), len); got < len)
        throw ProtocolError("peer closed after " + std::to_string(got) + " of " + std::to_string(len) + " bytes");
    return m;
}
// ANCHOR_END: frames
// ANCHOR: sockets
struct Address { sockaddr_un sa{AF_UNIX, {}}; socklen_t len = 0; };
inline Address abstract_address(const std::string& name) {  // a leading '\0': no file to unlink
    Address a;
    std::memcpy(a.sa.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return a;
}
inline Fd listen_on(const Address& a) {
    Fd s(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    check(::bind(s.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "bind");
    check(::listen(s.fd, 8), "listen");
    return s;
}
inline Fd connect_to(const Address& a) {
    Fd s(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    const timeval limit{3, 0};  // a stuck server means an error, never a hang
    check(::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt");
    check(::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "connect");
    return s;
}
// ANCHOR_END: sockets
// ANCHOR: serve
// An abstract socket has no file, so no file permissions: any local process may
// connect. The least a server can do is admit only processes of its own user.
inline void admit_same_user(int fd) {
    ucred peer{};
    socklen_t size = sizeof peer;
    check(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size), "getsockopt");  // from the kernel
    if (peer.uid != ::getuid()) throw ProtocolError("uid " + std::to_string(peer.uid) + " is not ours");
}
// `admit` vets a new client (it throws to refuse); `handle` answers one request, and
// a std::logic_error it throws becomes an "#ERROR#" reply. "shutdown" ends the loop.
using Handler = std::function<std::string(const std::string&)>;
inline int serve(int listener, const std::function<void(int)>& admit, const Handler& handle) {
    std::vector<Fd> clients;  // admitted connections only
    for (;;) {
        std::vector<pollfd> p{{listener, POLLIN, 0}};
        for (const Fd& c : clients) p.push_back({c.fd, POLLIN, 0});
        check(::poll(p.data(), p.size(), -1), "poll");
        for (std::size_t i = p.size() - 1; i >= 1; --i) {  // backwards: erase keeps the rest
            if (p[i].revents == 0) continue;
            const int fd = clients[i - 1].fd;
            try {
                const std::string request = recv_msg(fd);
                if (request == "shutdown") return send_msg(fd, "#RETURN#bye"), 0;
                std::string reply;
                try { reply = "#RETURN#" + handle(request); }
                catch (const std::logic_error& e) { reply = std::string("#ERROR#") + e.what(); }
                send_msg(fd, reply);  // a bad request costs one error reply
            } catch (const std::exception& e) {  // gone, or broke the protocol: drop it alone
                if (std::string(e.what()) != "peer closed") say(std::string("  server: dropped a client: ") + e.what());
                clients.erase(clients.begin() + static_cast<long>(i - 1));
            }
        }
        if (p[0].revents & POLLIN) {
            Fd c(check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
            const timeval t{2, 0};  // a client silent mid-message holds the server 2 s at most
            check(::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t), "setsockopt");
            try { admit(c.fd); clients.push_back(std::move(c)); }
            catch (const std::exception& e) { say(std::string("  server: refused: ") + e.what()); }
        }
    }
}
// Py: manager.start(). The server process dies with its parent and ends with _exit.
inline pid_t start_server(const std::function<int()>& body) {
    std::cout.flush();
    const pid_t pid = check(::fork(), "fork");
    if (pid == 0) {  // the server ends here, whatever happens
        int code = 1;
        try { check(::prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl"); code = body(); } catch (...) {}
        std::cout.flush();
        _exit(code);
    }
    return pid;
}
// ANCHOR_END: serve
