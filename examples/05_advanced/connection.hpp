// ANCHOR: owners
// connection.hpp - what listener_authkey and listener_bad_peers share: Python's
// multiprocessing.connection in C++. Messages framed as Connection frames them, a
// client and a server process that use the authkey handshake of authkey.hpp.
#pragma once
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
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

#include "authkey.hpp"  // the handshake, shared with custom_manager_auth

// A failed call throws, naming the call; main prints it.
inline int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }  // movable, so not copyable
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};
// A bad peer: this connection ends, the server goes on.
struct ProtocolError : std::runtime_error { using std::runtime_error::runtime_error; };
// ANCHOR_END: owners

// ANCHOR: frames
constexpr std::uint32_t max_message = 4096;  // Py: recv_bytes(maxlength)
inline void send_all(int fd, const std::string& b) {  // MSG_NOSIGNAL: EPIPE, not SIGPIPE
    check(static_cast<int>(::send(fd, b.data(), b.size(), MSG_NOSIGNAL)), "send");
}
inline std::size_t recv_all(int fd, char* p, std::size_t n) {  // < n: the peer closed
    const ssize_t k = ::recv(fd, p, n, MSG_WAITALL);  // n bytes, end-of-file or time-out
    if (k == -1 && errno == EAGAIN) throw ProtocolError("peer silent for 2 s");
    return static_cast<std::size_t>(check(static_cast<int>(k), "recv"));
}
inline std::string length(std::uint32_t n) {  // a frame's 4-byte length, network order
    n = htonl(n);
    return std::string(reinterpret_cast<const char*>(&n), 4);
}
inline void send_bytes(int fd, const std::string& m) {  // Py: conn.send_bytes(m)
    send_all(fd, length(static_cast<std::uint32_t>(m.size())) + m);
}
inline std::string recv_bytes(int fd) {  // Py: conn.recv_bytes(max_message)
    std::uint32_t len = 0;
    const std::size_t head = recv_all(fd, reinterpret_cast<char*>(&len), 4);
    if (head < 4) throw ProtocolError(head == 0 ? "peer closed" : "peer closed inside a length");
    len = ntohl(len);
    if (len > max_message)  // refuse before allocating: the length is the peer's word
        throw ProtocolError("message of " + std::to_string(len) + " bytes refused (limit " +
                            std::to_string(max_message) + ")");
    std::string m(len, '\0');
    if (const std::size_t got = recv_all(fd, m.data(), len); got < len)
        throw ProtocolError("peer closed in the middle of a message (" + std::to_string(got) +
                            " of " + std::to_string(len) + " bytes)");
    return m;
}
// ANCHOR_END: frames

// ANCHOR: sockets
struct Address { sockaddr_storage sa{}; socklen_t len = 0; };
inline Address unix_address(const std::string& name) {  // abstract (a leading '\0'): no file
    Address a;
    auto* un = reinterpret_cast<sockaddr_un*>(&a.sa);
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return a;
}
inline Address tcp_loopback() {  // Py: ("127.0.0.1", 0); port 0: the kernel picks one
    Address a;
    auto* in = reinterpret_cast<sockaddr_in*>(&a.sa);
    in->sin_family = AF_INET, in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.len = sizeof *in;
    return a;
}
// Py: Listener(address). The same code for both families; getsockname() fills in the port.
inline Fd listening(Address& a) {
    Fd s(check(::socket(a.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    check(::bind(s.fd, reinterpret_cast<sockaddr*>(&a.sa), a.len), "bind");
    check(::getsockname(s.fd, reinterpret_cast<sockaddr*>(&a.sa), &a.len), "getsockname");
    check(::listen(s.fd, 8), "listen");
    return s;
}
inline Fd connect_to(const Address& a) {  // Py: Client(address)
    Fd s(check(::socket(a.sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    const timeval limit{3, 0};  // a stuck server means an error, never a hang
    check(::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt");
    check(::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "connect");
    return s;
}
// Py: Client(address, authkey=key); conn.send_bytes(b"ping"); conn.recv_bytes().
// `answer` turns the challenge into what this client sends back: an honest client
// sends hmac_sha256(key, challenge).
inline std::string client(const Address& a, const std::function<std::string(const std::string&)>& answer) {
    Fd s = connect_to(a);
    const std::string challenge = recv_bytes(s.fd);
    if (challenge.rfind(challenge_tag, 0) != 0) throw ProtocolError("no challenge");
    send_bytes(s.fd, answer(challenge.substr(challenge_tag.size())));
    if (const std::string v = recv_bytes(s.fd); v != "#WELCOME#") return "refused (" + v + ")";
    send_bytes(s.fd, "ping");
    return recv_bytes(s.fd);
}
// ANCHOR_END: sockets

// ANCHOR: server
// One connection at a time, until the parent closes its end of `parent`. Whatever a
// peer sends, only its own connection ends; the verdict goes back to the parent.
inline int serve(int listener, int parent, const std::string& key) {
    for (;;) {
        pollfd p[2] = {{listener, POLLIN, 0}, {parent, POLLIN, 0}};
        check(::poll(p, 2, -1), "poll");
        if (p[1].revents != 0) return 0;  // the parent closed its end, or died
        Fd conn(check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
        const timeval t{2, 0};  // a silent peer cannot hold the server
        check(::setsockopt(conn.fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t), "setsockopt");
        std::string verdict;
        try {
            deliver_challenge(conn.fd, key, send_bytes, recv_bytes);
            const std::string request = recv_bytes(conn.fd);
            send_bytes(conn.fd, "pong");
            verdict = "served (" + request + ")";
        } catch (const std::exception& e) { verdict = std::string("refused: ") + e.what(); }
        verdict = "  server: " + verdict + "\n";  // < PIPE_BUF: one whole line
        check(static_cast<int>(::write(parent, verdict.data(), verdict.size())), "write");
    }
}
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
// The server process (Py: a Listener in a Process) and the socket its verdicts come
// back on. If main is left early, ~Child kills and reaps it.
class Server {
public:
    Server(Fd listener, const std::string& key) {
        int fds[2];
        check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
        mine_.fd = fds[0];
        Fd theirs(fds[1]);
        std::cout.flush();
        child_.pid = check(::fork(), "fork");
        if (child_.pid == 0) {  // the server ends here, whatever happens
            mine_.close();  // so that a dead parent means end-of-file
            int code = 1;
            try { code = serve(listener.fd, theirs.fd, key); } catch (...) {}
            _exit(code);
        }
    }
    // Prints what a client saw and the server's verdict (waiting 5 s at most), and
    // counts the connection as good if both are as expected.
    void report(const std::string& what, const std::string& got, bool good, const char* verdict) {
        std::cout << what << ": " << got << (good ? " ✓" : " ✗") << '\n';
        pollfd p{mine_.fd, POLLIN, 0};
        char line[512];
        const ssize_t n = check(::poll(&p, 1, 5000), "poll") == 1 ? ::read(mine_.fd, line, 512) : 0;
        if (n <= 0) throw std::runtime_error("the server died or did not answer");
        const std::string said(line, static_cast<std::size_t>(n));
        std::cout << said;
        ++reported_, good_ += good && said.find(verdict) != std::string::npos;
    }
    // Stops the server and reaps it; true if every connection ended as it should
    // and the server ended by itself with status 0.
    bool stop() {
        mine_.close();  // the server's poll() sees end-of-file and it returns
        int status = 0;
        check(::waitpid(child_.pid, &status, 0), "waitpid");
        child_.pid = -1;  // reaped: the pid may soon be someone else's
        const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << good_ << " of " << reported_ << " connections ended as they should; "
                  << "server exit status 0: " << (clean ? "yes" : "NO") << '\n';
        return good_ == reported_ && clean;
    }
private:
    int reported_ = 0, good_ = 0;
    Fd mine_;
    Child child_{-1};
};
// ANCHOR_END: server
