// listener_authkey.cpp - Python's Listener and Client with an authkey: only a peer
// that knows the key gets a connection. A wrong key and a replayed answer are
// refused, and the server keeps serving. `--tcp`: the same over 127.0.0.1.
#include "connection.hpp"

namespace {

int run(bool tcp) {
    const std::string key = "secret key";  // Py: authkey=b"secret key"
    Address a = tcp ? tcp_loopback() : unix_address("listener_authkey." + std::to_string(::getpid()));
    Server server(listening(a), key);
    std::cout << (tcp ? "over TCP, 127.0.0.1" : "over an abstract Unix socket") << '\n';
    std::string recorded;  // the first answer, replayed below on another connection
    std::string r = client(a, [&](const std::string& c) { return recorded = hmac_sha256(key, c); });
    server.report("right key", r, r == "pong", "served (ping)");
    r = client(a, [&](const std::string& c) { return hmac_sha256("wrong key", c); });
    server.report("wrong key", r, r == "refused (#FAILURE#)", "digest received was wrong");
    r = client(a, [&](const std::string&) { return recorded; });
    server.report("answer replayed from the first connection", r, r == "refused (#FAILURE#)",
                  "digest received was wrong");
    r = client(a, [&](const std::string& c) { return hmac_sha256(key, c); });
    server.report("right key again: the server still serves", r, r == "pong", "served (ping)");
    return server.stop() ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    const bool tcp = argc == 2 && std::string(argv[1]) == "--tcp";
    if (argc > 2 || (argc == 2 && !tcp)) {
        std::cerr << "usage: " << argv[0] << " [--tcp]\n";
        return 2;
    }
    try {
        return run(tcp);
    } catch (const std::exception& e) {
        std::cerr << "listener_authkey: " << e.what() << '\n';
        return 1;
    }
}
