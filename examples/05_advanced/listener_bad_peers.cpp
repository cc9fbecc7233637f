// listener_bad_peers.cpp - a server that trusts nothing a peer sends: a malformed
// answer, a length of 1 GiB and a peer gone mid-message each cost only their own
// connection, and the next client is served.
#include "connection.hpp"

namespace {

// A bad peer: takes the challenge, sends raw bytes, stops writing, waits for the close.
std::string bad_peer(const Address& a, const std::string& raw) {
    Fd s = connect_to(a);
    recv_bytes(s.fd);
    send_all(s.fd, raw);
    check(::shutdown(s.fd, SHUT_WR), "shutdown");  // the server reads end-of-file
    for (char sink[64]; ::recv(s.fd, sink, sizeof sink, 0) > 0;) {}  // bounded: SO_RCVTIMEO
    return "sent";
}
int run() {
    const std::string key = "secret key";
    Address a = unix_address("listener_bad_peers." + std::to_string(::getpid()));
    Server server(listening(a), key);
    // Each raw answer follows the challenge: a frame's length, then bytes.
    server.report("5-byte answer", bad_peer(a, length(5) + "hello"), true,
                  "malformed answer of 5 bytes");
    server.report("length 1 GiB", bad_peer(a, length(1u << 30)), true, "refused (limit");
    server.report("10 of 32 bytes, then gone", bad_peer(a, length(32) + "0123456789"), true,
                  "in the middle of a message");
    const std::string r = client(a, [&](const std::string& c) { return hmac_sha256(key, c); });
    server.report("right key: the server still serves", r, r == "pong", "served (ping)");
    return server.stop() ? 0 : 1;
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
        std::cerr << "listener_bad_peers: " << e.what() << '\n';
        return 1;
    }
}
