// queue_serialise.cpp — turn a struct into bytes and back: the job pickle does
// for multiprocessing.Queue. A pipe (queues_basic.cpp) then carries the bytes.
// Python: data = pickle.dumps(order); pickle.loads(data) == order
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

/// What travels through the queue: numbers and a variable-length string.
struct Order {
    std::int32_t producer;
    std::int32_t seq;
    double price;
    std::string item;
    bool operator==(const Order&) const = default;
};

// Both ends run the same binary on the same machine, so copying the bytes of
// an int or a double is safe; across machines you would fix the byte order.
template <class T> void put_raw(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T> T get_raw(const std::string& in, size_t& pos) {
    if (in.size() - pos < sizeof(T)) throw std::runtime_error("message too short");
    T v;
    std::memcpy(&v, in.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
}

std::string serialise(const Order& o) {
    std::string out;
    put_raw(out, o.producer);
    put_raw(out, o.seq);
    put_raw(out, o.price);
    put_raw(out, static_cast<std::uint32_t>(o.item.size()));  // strings need a length too
    out += o.item;
    return out;
}

Order deserialise(const std::string& in) {
    size_t pos = 0;
    Order o;
    o.producer = get_raw<std::int32_t>(in, pos);
    o.seq = get_raw<std::int32_t>(in, pos);
    o.price = get_raw<double>(in, pos);
    auto len = get_raw<std::uint32_t>(in, pos);
    if (in.size() - pos != len) throw std::runtime_error("string length does not match");
    o.item = in.substr(pos, len);
    return o;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: queue_serialise\n"); return 2; }
    try {
        const Order sent{1, 3, 1.25, "apple"};
        const std::string bytes = serialise(sent);
        std::printf("{1, 3, 1.25, \"apple\"} -> %zu bytes: 4 + 4 + 8 of numbers, "
                    "4 of length, %zu of text\n", bytes.size(), sent.item.size());
        const Order back = deserialise(bytes);
        std::printf("read back: {%d, %d, %.2f, \"%s\"}\n", back.producer, back.seq, back.price,
                    back.item.c_str());
        // A cut message must be refused, not read past its end.
        bool refused = false;
        try { deserialise(bytes.substr(0, 10)); } catch (const std::runtime_error&) { refused = true; }
        std::printf("a message cut to 10 bytes is refused: %s\n", refused ? "yes" : "no");
        const bool ok = back == sent && refused;
        std::printf("%s\n", ok ? "round trip exact: the bytes carry the whole struct" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "queue_serialise: %s\n", e.what());
        return 1;
    }
}
