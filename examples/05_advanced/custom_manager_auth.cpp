// custom_manager_auth.cpp - a manager's door: Python's authkey as an HMAC
// challenge-response (OpenSSL's libcrypto), and bad clients - a wrong key, an
// oversized or half-sent message, a malformed request - each cost only their own
// connection while the server keeps serving the others.
#include <charconv>

#include "authkey.hpp"  // the handshake of listener_client
#include "manager_wire.hpp"

namespace {

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
        answer_challenge(s.fd, key, send_msg, recv_msg);
        check(static_cast<int>(::send(s.fd, raw.data(), raw.size(), MSG_NOSIGNAL)), "send");
        check(::shutdown(s.fd, SHUT_WR), "shutdown");
    } catch (const AuthenticationError& e) { result = e.what(); }  // the handshake failed
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
        return serve(listener.fd, [&](int fd) { deliver_challenge(fd, key, send_msg, recv_msg); },
                     [&](const std::string& q) { return counter(n, q); });
    }));
    Fd good = connect_to(a);  // Py: manager.connect(); it stays connected throughout
    answer_challenge(good.fd, key, send_msg, recv_msg);
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
