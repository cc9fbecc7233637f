// ANCHOR: auth
// authkey.hpp - Python's authkey handshake (multiprocessing.connection's
// deliver_challenge and answer_challenge): HMAC-SHA256 from OpenSSL's libcrypto.
// connection.hpp and manager_wire.hpp frame messages alike but name it differently,
// so each call takes the framing: send(fd, message) and recv(fd).
#pragma once
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <string>

// Py: multiprocessing.AuthenticationError. Only this connection ends.
struct AuthenticationError : std::runtime_error { using std::runtime_error::runtime_error; };

const std::string challenge_tag = "#CHALLENGE#";
inline std::string hmac_sha256(const std::string& key, const std::string& msg) {
    unsigned char out[EVP_MAX_MD_SIZE];  // 32 bytes are used
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &len) == nullptr)
        throw std::runtime_error("HMAC failed");
    return std::string(reinterpret_cast<char*>(out), len);
}
// Server side: a fresh random challenge per connection, so an answer recorded from
// another connection is worthless.
template <class Send, class Recv>
void deliver_challenge(int fd, const std::string& key, Send send, Recv recv) {
    unsigned char nonce[32];
    if (RAND_bytes(nonce, sizeof nonce) != 1) throw std::runtime_error("RAND_bytes failed");
    const std::string message(reinterpret_cast<char*>(nonce), sizeof nonce);
    send(fd, challenge_tag + message);
    const std::string answer = recv(fd);
    const std::string expected = hmac_sha256(key, message);
    const bool right_size = answer.size() == expected.size();
    // Constant time: memcmp would stop at the first wrong byte and leak how far it got.
    if (!right_size || CRYPTO_memcmp(answer.data(), expected.data(), expected.size()) != 0) {
        send(fd, "#FAILURE#");  // Py: the client raises AuthenticationError too
        throw AuthenticationError(right_size ? "AuthenticationError: digest received was wrong"
                                             : "malformed answer of " + std::to_string(answer.size()) +
                                                   " bytes, expected " + std::to_string(expected.size()));
    }
    send(fd, "#WELCOME#");
}
// Client side: the key itself never crosses the socket, only its HMAC of the challenge.
template <class Send, class Recv>
void answer_challenge(int fd, const std::string& key, Send send, Recv recv) {
    const std::string challenge = recv(fd);
    if (challenge.rfind(challenge_tag, 0) != 0) throw AuthenticationError("no challenge");
    send(fd, hmac_sha256(key, challenge.substr(challenge_tag.size())));
    if (recv(fd) != "#WELCOME#") throw AuthenticationError("AuthenticationError: key refused");
}
// ANCHOR_END: auth
