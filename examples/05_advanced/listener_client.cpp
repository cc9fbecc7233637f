// listener_client.cpp - Python's Listener/Client with an authkey: a server on a
// Unix socket and a TCP port, an HMAC-SHA256 challenge-response (OpenSSL's
// libcrypto), SO_PEERCRED for local peers, and bad peers refused while the
// server keeps serving the next one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
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
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};
// ANCHOR: child
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
// ANCHOR_END: child
// A bad peer: this connection ends, the server goes on.
struct ProtocolError : std::runtime_error { using std::runtime_error::runtime_error; };

// ANCHOR: frames
constexpr std::uint32_t max_message = 4096;  // Py: recv_bytes(maxlength)
void send_all(int fd, const char* p, std::size_t n) {  // MSG_NOSIGNAL: EPIPE, not SIGPIPE
    check(static_cast<int>(::send(fd, p, n, MSG_NOSIGNAL)), "send");
}
std::size_t recv_all(int fd, char* p, std::size_t n) {  // < n: the peer closed
    const ssize_t k = ::recv(fd, p, n, MSG_WAITALL);  // n bytes, end-of-file or time-out
    if (k == -1 && errno == EAGAIN) throw ProtocolError("peer silent for 2 s");
    return static_cast<std::size_t>(check(static_cast<int>(k), "recv"));
}
void send_bytes(int fd, const std::string& m) {  // Py: conn.send_bytes(m)
    const std::uint32_t len = htonl(static_cast<std::uint32_t>(m.size()));
    send_all(fd, (std::string(reinterpret_cast<const char*>(&len), 4) + m).data(), 4 + m.size());
}
std::string recv_bytes(int fd) {  // Py: conn.recv_bytes(max_message)
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
// ANCHOR: auth
const std::string challenge_tag = "#CHALLENGE#";
std::string hmac_sha256(const std::string& key, const std::string& msg) {
    unsigned char out[EVP_MAX_MD_SIZE];  // 32 bytes are used
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len) == nullptr)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<char*>(out), len);
}
// Server side (Py: connection.deliver_challenge): a fresh random challenge per
// connection, so an answer recorded from another connection is worthless.
void deliver_challenge(int fd, const std::string& key) {
    unsigned char nonce[32];
    if (RAND_bytes(nonce, sizeof nonce) != 1) throw std::runtime_error("RAND_bytes failed");
    const std::string message(reinterpret_cast<char*>(nonce), sizeof nonce);
    send_bytes(fd, challenge_tag + message);
    const std::string answer = recv_bytes(fd);
    const std::string expected = hmac_sha256(key, message);
    const bool right_size = answer.size() == expected.size();
    // Constant time: memcmp would stop at the first wrong byte and leak how far it got.
    if (!right_size || CRYPTO_memcmp(answer.data(), expected.data(), expected.size()) != 0) {
        send_bytes(fd, "#FAILURE#");  // Py: the client raises AuthenticationError too
        throw ProtocolError(right_size ? "AuthenticationError: digest received was wrong"
                                       : "malformed answer of " + std::to_string(answer.size()) +
                                             " bytes, expected " + std::to_string(expected.size()));
    }
    send_bytes(fd, "#WELCOME#");
}
// ANCHOR_END: auth
// ANCHOR: server
std::string serve_one(int fd, const std::string& key, bool local) {
    std::string peer;
    if (local) {  // the kernel says who is on the other end: pid, uid, gid at connect()
        ucred cred{};
        socklen_t n = sizeof cred;
        check(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n), "getsockopt");
        peer = "pid " + std::to_string(cred.pid) + " uid " + std::to_string(cred.uid);
    } else {  // TCP: only an address, which proves nothing; the HMAC does
        sockaddr_in a{};
        socklen_t n = sizeof a;
        check(::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &n), "getpeername");
        peer = std::string(::inet_ntoa(a.sin_addr)) + ":" + std::to_string(ntohs(a.sin_port));
    }
    deliver_challenge(fd, key);
    const std::string request = recv_bytes(fd);
    send_bytes(fd, "welcome, " + peer);
    return "served " + peer + " (" + request + ")";
}
// Serves until the parent closes its end of `parent`, telling it each verdict.
int serve(int unix_fd, int tcp_fd, int parent, const std::string& key) {
    for (;;) {
        pollfd p[3] = {{unix_fd, POLLIN, 0}, {tcp_fd, POLLIN, 0}, {parent, POLLIN, 0}};
        check(::poll(p, 3, -1), "poll");
        if (p[2].revents != 0) return 0;  // the parent closed its end, or died
        for (int i = 0; i < 2; ++i) if (p[i].revents & POLLIN) {  // Py: listener.accept()
            Fd conn(check(::accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
            const timeval t{2, 0};     // a silent peer cannot hold the server
            check(::setsockopt(conn.fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t), "setsockopt");
            std::string verdict;
            try { verdict = serve_one(conn.fd, key, i == 0); }
            catch (const std::exception& e) { verdict = std::string("refused: ") + e.what(); }
            verdict = "  server: " + verdict + "\n";  // < PIPE_BUF: one whole line
            check(static_cast<int>(::write(parent, verdict.data(), verdict.size())), "write");
        }
    }
}
// ANCHOR_END: server
// ANCHOR: clients
// Py: Client(address, authkey=key); conn.send_bytes(b"ping"); conn.recv_bytes().
// `replay`, if given, is sent instead of the answer this challenge needs.
std::string client(const Fd& s, const std::string& key, std::string* answer_sent,
                   const std::string* replay = nullptr) {
    const std::string challenge = recv_bytes(s.fd);
    if (challenge.rfind(challenge_tag, 0) != 0) throw ProtocolError("no challenge");
    const std::string answer = hmac_sha256(key, challenge.substr(challenge_tag.size()));
    if (answer_sent != nullptr) *answer_sent = answer;
    send_bytes(s.fd, replay != nullptr ? *replay : answer);
    if (const std::string v = recv_bytes(s.fd); v != "#WELCOME#") return "refused (" + v + ")";
    send_bytes(s.fd, "ping");
    return recv_bytes(s.fd);
}
// A bad peer: takes the challenge, sends raw bytes, stops writing, waits for the close.
void bad_peer(const Fd& s, const std::string& raw) {
    recv_bytes(s.fd);
    send_all(s.fd, raw.data(), raw.size());
    check(::shutdown(s.fd, SHUT_WR), "shutdown");  // the server reads end-of-file
    for (char sink[64]; ::recv(s.fd, sink, sizeof sink, 0) > 0;) {}  // bounded: SO_RCVTIMEO
}
Fd connect_to(const sockaddr* a, socklen_t n) {
    Fd s(check(::socket(a->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    const timeval limit{3, 0};
    check(::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt");
    check(::connect(s.fd, a, n), "connect");
    return s;
}
// ANCHOR_END: clients
// ANCHOR: main
Fd listening(const sockaddr* a, socklen_t n) {  // Py: Listener(address, authkey=key)
    Fd s(check(::socket(a->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    check(::bind(s.fd, a, n), "bind");
    check(::listen(s.fd, 8), "listen");
    return s;
}
int run() {
    const std::string key = "secret key";  // Py: authkey=b"secret key"
    sockaddr_un ua{AF_UNIX, {}};  // an abstract name (leading '\0'): no file to unlink
    const std::string name = "listener_client." + std::to_string(::getpid());
    std::memcpy(ua.sun_path + 1, name.data(), name.size());
    const auto ulen = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    sockaddr_in ta{AF_INET, 0, {htonl(INADDR_LOOPBACK)}, {}};  // port 0: the kernel picks
    socklen_t tlen = sizeof ta;
    Fd ul = listening(reinterpret_cast<sockaddr*>(&ua), ulen);
    Fd tl = listening(reinterpret_cast<sockaddr*>(&ta), tlen);
    check(::getsockname(tl.fd, reinterpret_cast<sockaddr*>(&ta), &tlen), "getsockname");
    int fds[2];  // the server's verdicts come back here; our close() tells it to stop
    check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
    Fd mine(fds[0]), servers(fds[1]);
    std::cout.flush();
    Child server(check(::fork(), "fork"));
    if (server.pid == 0) {  // the server ends here, whatever happens
        mine.close();  // so that a dead parent means end-of-file
        int code = 1;
        try { code = serve(ul.fd, tl.fd, servers.fd, key); } catch (...) {}
        _exit(code);
    }
    ul.close(), tl.close(), servers.close();
    int ok = 0;  // each line: what the client saw, then the server's verdict (bounded wait)
    auto report = [&](const char* what, const std::string& got, bool good, const char* verdict) {
        std::cout << what << ": " << got << (good ? " ✓" : " ✗") << '\n';
        pollfd p{mine.fd, POLLIN, 0};
        char line[512];
        const ssize_t n = check(::poll(&p, 1, 5000), "poll") == 1 ? ::read(mine.fd, line, 512) : 0;
        if (n <= 0) throw std::runtime_error("the server died or did not answer");
        const std::string said(line, static_cast<std::size_t>(n));
        std::cout << said;
        ok += good && said.find(verdict) != std::string::npos;
    };
    auto unix_peer = [&] { return connect_to(reinterpret_cast<sockaddr*>(&ua), ulen); };
    const std::string me = "welcome, pid " + std::to_string(::getpid()) + " uid " +
                           std::to_string(::getuid());  // what SO_PEERCRED must report
    std::string recorded, r = client(unix_peer(), key, &recorded);
    report("unix, right key", r, r == me, "served");
    r = client(connect_to(reinterpret_cast<sockaddr*>(&ta), tlen), key, nullptr);
    report("tcp, right key", r, r.rfind("welcome, 127.0.0.1:", 0) == 0, "served");
    r = client(unix_peer(), "wrong key", nullptr);
    report("unix, wrong key", r, r == "refused (#FAILURE#)", "digest received was wrong");
    r = client(unix_peer(), key, nullptr, &recorded);
    report("unix, answer replayed from the first connection", r, r == "refused (#FAILURE#)",
           "digest received was wrong");
    const std::uint32_t huge = htonl(1u << 30), partial = htonl(32);
    bad_peer(unix_peer(), std::string("\0\0\0\5hello", 9));
    report("unix, 5-byte answer", "sent", true, "malformed answer of 5 bytes");
    bad_peer(unix_peer(), std::string(reinterpret_cast<const char*>(&huge), 4));
    report("unix, length 1 GiB", "sent", true, "refused (limit");
    bad_peer(unix_peer(), std::string(reinterpret_cast<const char*>(&partial), 4) + "0123456789");
    report("unix, 10 of 32 bytes, then gone", "sent", true, "in the middle of a message");
    r = client(unix_peer(), key, nullptr);
    report("unix, right key again: the server still serves", r, r == me, "served");
    mine.close();  // the server's poll() sees end-of-file and it returns
    int status = 0;
    check(::waitpid(server.pid, &status, 0), "waitpid");  // it ends by itself
    server.pid = -1;
    std::cout << ok << " of 8 connections ended as they should\n";
    return (ok == 8 && WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}
// ANCHOR_END: main

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << "listener_client: " << e.what() << '\n';
        return 1;
    }
}
