// custom_manager_auth.cpp - a manager's door: Python's authkey as an HMAC
// challenge-response (OpenSSL's libcrypto), and bad clients - a wrong key, an
// oversized or half-sent message, a malformed request - each cost only their own
// connection while the server keeps serving the others.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>

#include "manager_wire.hpp"

namespace {

std::string hmac_sha256(const std::string& key, const std::string& msg) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len) == nullptr)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<char*>(out), len);
}
void deliver_challenge(int fd, const std::string& key) {  // the server's side
    unsigned char nonce[32];  // fresh each time: a recorded answer is worth nothing
    if (RAND_bytes(nonce, sizeof nonce) != 1) throw std::runtime_error("RAND_bytes failed");
    const std::string message(reinterpret_cast<char*>(nonce), sizeof nonce);
    send_msg(fd, "#CHALLENGE#" + message);
    const std::string answer = recv_msg(fd), expected = hmac_sha256(key, message);
    if (answer.size() != expected.size() ||  // constant time: no clue in how long it took
        CRYPTO_memcmp(answer.data(), expected.data(), expected.size()) != 0) {
        send_msg(fd, "#FAILURE#");
        throw ProtocolError("AuthenticationError: digest received was wrong");
    }
    send_msg(fd, "#WELCOME#");
}
void answer_challenge(int fd, const std::string& key) {  // the client's side
    const std::string challenge = recv_msg(fd);
    send_msg(fd, hmac_sha256(key, challenge.substr(std::strlen("#CHALLENGE#"))));
    if (recv_msg(fd) != "#WELCOME#") throw ProtocolError("AuthenticationError: key refused");
}

std::string counter(long& n, const std::string& request) {  // "increment N" or "value"
    if (request == "value") return std::to_string(n);
    if (!request.starts_with("increment ")) throw std::invalid_argument("no method in '" + request + "'");
    long k = 0;  // the argument, checked: from_chars neither throws nor accepts "12abc"
    const auto [end, ec] = std::from_chars(request.data() + 10, request.data() + request.size(), k);
    if (ec != std::errc{} || end != request.data() + request.size() || request.size() == 10)
        throw std::invalid_argument("'" + request.substr(10) + "' is not a number");
    return std::to_string(n += k);
}
std::string request(const Fd& s, const std::string& r) { return send_msg(s.fd, r), recv_msg(s.fd); }
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
std::string length(std::uint32_t n) {  // a frame's length as the wire has it
    n = htonl(n);
    return std::string(reinterpret_cast<char*>(&n), 4);
}

int run() {
    const std::string key = "secret key";  // Py: BaseManager(address, authkey=b"secret key")
    const Address a = abstract_address("custom_manager_auth." + std::to_string(::getpid()));
    Fd listener = listen_on(a);
    Child server(start_server([&] {
        long n = 0;
        return serve(listener.fd, [&](int fd) { deliver_challenge(fd, key); },
                     [&](const std::string& q) { return counter(n, q); });
    }));
    Fd good = connect_to(a);  // Py: manager.connect(); it stays connected throughout
    answer_challenge(good.fd, key);
    say("good client: increment 5 -> " + request(good, "increment 5"));
    say("wrong key -> " + misbehave(a, "wrong key", ""));
    say("length 1 GiB -> " + misbehave(a, key, length(1u << 30)));
    say("10 of 32 bytes, then gone -> " + misbehave(a, key, length(32) + "0123456789"));
    say("increment lots -> " + request(good, "increment lots"));
    say("reset -> " + request(good, "reset"));
    const std::string after = request(good, "increment 1");
    say("good client: increment 1 -> " + after + ": the server still serves");
    request(good, "shutdown");  // Py: manager.shutdown()
    const int code = reap(server);  // it has answered: it is ending
    say("server exit status " + std::to_string(code));
    return after == "#RETURN#6" && code == 0 ? 0 : 1;
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
        std::cerr << "custom_manager_auth: " << e.what() << '\n';
        return 1;
    }
}
