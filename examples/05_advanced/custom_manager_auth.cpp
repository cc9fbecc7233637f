// custom_manager_auth.cpp - a manager's door: Python's authkey as an HMAC
// challenge-response (OpenSSL's libcrypto), and bad clients - a wrong key, an
// oversized or half-sent message, a malformed request - each cost only their own
// connection while the server keeps serving the others.
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&& o) noexcept { std::swap(fd, o.fd); return *this; }
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};
// ANCHOR: owner
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
// ANCHOR_END: owner
void say(const std::string& line) { std::cout << line << std::endl; }  // flushed: two writers
// A bad peer: its connection ends, the server goes on.
struct ProtocolError : std::runtime_error { using std::runtime_error::runtime_error; };

// Frames as Python's Connection sends them: a 4-byte length, then the bytes.
constexpr std::uint32_t max_message = 4096;
void send_bytes(int fd, const std::string& m) {
    const std::uint32_t len = htonl(static_cast<std::uint32_t>(m.size()));
    const std::string frame = std::string(reinterpret_cast<const char*>(&len), 4) + m;
    check(static_cast<int>(::send(fd, frame.data(), frame.size(), MSG_NOSIGNAL)), "send");
}
std::size_t recv_all(int fd, char* p, std::size_t n) {  // < n: the peer closed
    const ssize_t k = ::recv(fd, p, n, MSG_WAITALL);
    if (k == -1 && errno == EAGAIN) throw ProtocolError("peer silent for 2 s");
    return static_cast<std::size_t>(check(static_cast<int>(k), "recv"));
}
std::string recv_bytes(int fd) {
    std::uint32_t len = 0;
    if (recv_all(fd, reinterpret_cast<char*>(&len), 4) < 4) throw ProtocolError("peer closed");
    if (len = ntohl(len); len > max_message)  // before allocating: the length is the peer's word
        throw ProtocolError("message of " + std::to_string(len) + " bytes refused (limit " +
                            std::to_string(max_message) + ")");
    std::string m(len, '\0');
    if (const std::size_t got = recv_all(fd, m.data(), len); got < len)
        throw ProtocolError("peer closed in the middle of a message (" + std::to_string(got) +
                            " of " + std::to_string(len) + " bytes)");
    return m;
}
std::string hmac_sha256(const std::string& key, const std::string& msg) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len) == nullptr)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<char*>(out), len);
}
void deliver_challenge(int fd, const std::string& key) {  // the server's side
    unsigned char nonce[32];
    if (RAND_bytes(nonce, sizeof nonce) != 1) throw std::runtime_error("RAND_bytes failed");
    const std::string message(reinterpret_cast<char*>(nonce), sizeof nonce);
    send_bytes(fd, "#CHALLENGE#" + message);
    const std::string answer = recv_bytes(fd), expected = hmac_sha256(key, message);
    if (answer.size() != expected.size() ||
        CRYPTO_memcmp(answer.data(), expected.data(), expected.size()) != 0) {
        send_bytes(fd, "#FAILURE#");
        throw ProtocolError("AuthenticationError: digest received was wrong");
    }
    send_bytes(fd, "#WELCOME#");
}
void answer_challenge(int fd, const std::string& key) {  // the client's side
    const std::string challenge = recv_bytes(fd);
    send_bytes(fd, hmac_sha256(key, challenge.substr(std::strlen("#CHALLENGE#"))));
    if (recv_bytes(fd) != "#WELCOME#") throw ProtocolError("AuthenticationError: key refused");
}

// ANCHOR: server
long number(const std::string& s) {  // a request's argument, checked
    long n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
        throw std::invalid_argument("'" + s + "' is not a number");
    return n;
}
// The one registered object, a counter: "increment N" or "value".
std::string dispatch(long& counter, const std::string& request) {
    if (request == "value") return std::to_string(counter);
    if (request.rfind("increment ", 0) == 0)
        return std::to_string(counter += number(request.substr(10)));
    throw std::invalid_argument("no method in '" + request + "'");
}
int serve(int listener, const std::string& key) {
    long counter = 0;
    std::vector<Fd> clients;  // authenticated connections only
    for (;;) {
        std::vector<pollfd> p{{listener, POLLIN, 0}};
        for (const Fd& c : clients) p.push_back({c.fd, POLLIN, 0});
        check(::poll(p.data(), p.size(), -1), "poll");
        for (std::size_t i = p.size() - 1; i >= 1; --i) {  // backwards: erase keeps the rest
            if (p[i].revents == 0) continue;
            const int fd = clients[i - 1].fd;
            try {
                const std::string request = recv_bytes(fd);
                if (request == "shutdown") return send_bytes(fd, "#RETURN#bye"), 0;
                std::string reply;
                try { reply = "#RETURN#" + dispatch(counter, request); }
                catch (const std::logic_error& e) { reply = std::string("#ERROR#") + e.what(); }
                send_bytes(fd, reply);  // a bad request costs one error reply
            } catch (const std::exception& e) {  // gone, or broke the protocol: drop it alone
                if (std::string(e.what()) != "peer closed")
                    say(std::string("  server: dropped a client: ") + e.what());
                clients.erase(clients.begin() + static_cast<long>(i - 1));
            }
        }
        if (p[0].revents & POLLIN) {  // a new client must prove it has the key
            Fd c(check(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC), "accept4"));
            const timeval t{2, 0};  // a client silent mid-message holds the server 2 s at most
            check(::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &t, sizeof t), "setsockopt");
            try { deliver_challenge(c.fd, key); clients.push_back(std::move(c)); }
            catch (const std::exception& e) { say(std::string("  server: refused: ") + e.what()); }
        }
    }
}
// ANCHOR_END: server
// ANCHOR: clients
struct Address { sockaddr_un sa; socklen_t len; };
Fd connect_to(const Address& a) {
    Fd s(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    const timeval limit{3, 0};  // a stuck server means an error, never a hang
    check(::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt");
    check(::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "connect");
    return s;
}
std::string request(const Fd& s, const std::string& r) {  // what a proxy's call sends
    send_bytes(s.fd, r);
    return recv_bytes(s.fd);
}
// A bad client: `key` for the handshake, then `raw` bytes, then it stops writing.
std::string misbehave(const Address& a, const std::string& key, const std::string& raw) {
    Fd s = connect_to(a);
    std::string result = "closed by the server";
    try {
        answer_challenge(s.fd, key);
        check(static_cast<int>(::send(s.fd, raw.data(), raw.size(), MSG_NOSIGNAL)), "send");
        check(::shutdown(s.fd, SHUT_WR), "shutdown");
    } catch (const ProtocolError& e) { result = e.what(); }  // the handshake failed
    for (char sink[64]; ::recv(s.fd, sink, sizeof sink, 0) > 0;) {}  // the server has spoken
    return result;
}
// ANCHOR_END: clients
// ANCHOR: main
int run() {
    const std::string key = "secret key";  // Py: BaseManager(address, authkey=b"secret key")
    Address a{{AF_UNIX, {}}, 0};  // an abstract name (leading '\0'): no file to unlink
    const std::string name = "custom_manager_auth." + std::to_string(::getpid());
    std::memcpy(a.sa.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    Fd listener(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket"));
    check(::bind(listener.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "bind");
    check(::listen(listener.fd, 8), "listen");
    std::cout.flush();
    Child server(check(::fork(), "fork"));
    if (server.pid == 0) {  // the server ends here, whatever happens
        int code = 1;
        try {
            check(::prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl");  // it dies with its parent
            code = serve(listener.fd, key);
        } catch (...) {}
        std::cout.flush();
        _exit(code);
    }
    listener.close();
    Fd good = connect_to(a);  // Py: manager.connect(); it stays connected throughout
    answer_challenge(good.fd, key);
    say("good client: increment 5 -> " + request(good, "increment 5"));
    std::uint32_t huge = htonl(1u << 30), partial = htonl(32);  // lengths as the wire has them
    say("wrong key -> " + misbehave(a, "wrong key", ""));
    say("length 1 GiB -> " + misbehave(a, key, std::string(reinterpret_cast<char*>(&huge), 4)));
    say("10 of 32 bytes, then gone -> " +
        misbehave(a, key, std::string(reinterpret_cast<char*>(&partial), 4) + "0123456789"));
    say("increment lots -> " + request(good, "increment lots"));
    say("reset -> " + request(good, "reset"));
    const std::string after = request(good, "increment 1");
    say("good client: increment 1 -> " + after + ": the server still serves");
    request(good, "shutdown");  // Py: manager.shutdown()
    int status = 0;
    check(::waitpid(server.pid, &status, 0), "waitpid");  // it has answered: it is ending
    server.pid = -1;
    say("server exit status " + std::to_string(WEXITSTATUS(status)));
    return after == "#RETURN#6" && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
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
        std::cerr << "custom_manager_auth: " << e.what() << '\n';
        return 1;
    }
}
