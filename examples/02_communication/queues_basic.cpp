// queues_basic.cpp — a message queue between processes built from a pipe:
// each message is serialised to bytes and sent as a length-prefixed frame.
// Python: multiprocessing.Queue pickles each object and does the same framing.
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "queues_basic";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset(int fd = -1) { if (fd_ != -1) ::close(fd_); fd_ = fd; }
private:
    int fd_;
};

class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try { rc = body(); } catch (const std::exception& e) {
                std::fprintf(stderr, "%s (child): %s\n", program, e.what());
            } catch (...) {}
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

/// What travels through the queue: numbers and a variable-length string.
struct Order {
    std::int32_t producer;
    std::int32_t seq;
    double price;
    std::string item;
};

// --- serialisation: the part pickle does for you in Python -------------------
// Both ends run the same binary on the same machine, so copying the bytes of
// an int or a double is safe; across machines you would fix the byte order.
template <class T> void put_raw(std::string& out, const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T> T get_raw(const std::string& in, size_t& pos) {
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
    o.item = in.substr(pos, len);
    return o;
}

// --- framing: a byte stream has no message boundaries, so we add them ---------
/// A queue of Orders over one pipe. Many producers may put() concurrently:
/// each frame goes out in ONE write() of at most PIPE_BUF bytes, which the
/// kernel never interleaves with another writer's.
class OrderQueue {
public:
    OrderQueue() {
        int fds[2];
        check(::pipe(fds), "pipe");
        read_end_.reset(fds[0]);
        write_end_.reset(fds[1]);
    }
    void put(const Order& o) {
        std::string payload = serialise(o);
        std::string frame;
        put_raw(frame, static_cast<std::uint32_t>(payload.size()));
        frame += payload;
        if (frame.size() > PIPE_BUF) throw std::length_error("frame larger than PIPE_BUF");
        check(static_cast<int>(::write(write_end_.get(), frame.data(), frame.size())), "write");
    }
    /// Returns nullopt at EOF: every producer has closed its end.
    std::optional<Order> get() {
        std::string header;
        if (!read_exact(header, sizeof(std::uint32_t))) return std::nullopt;
        size_t pos = 0;
        auto len = get_raw<std::uint32_t>(header, pos);
        std::string payload;
        if (!read_exact(payload, len)) throw std::runtime_error("truncated frame");
        return deserialise(payload);
    }
    void close_reading() { read_end_.reset(); }
    void close_writing() { write_end_.reset(); }
private:
    // read() may return fewer bytes than asked: loop until we have a whole part.
    bool read_exact(std::string& out, size_t n) {
        out.resize(n);
        size_t got = 0;
        while (got < n) {
            ssize_t r = ::read(read_end_.get(), out.data() + got, n - got);
            if (r == -1 && errno == EINTR) continue;
            check(static_cast<int>(r), "read");
            if (r == 0) return false;
            got += static_cast<size_t>(r);
        }
        return true;
    }
    Fd read_end_, write_end_;
};

const char* const items[] = {"apple", "bread", "coffee beans", "dates", "espresso machine"};
constexpr int producers = 2, orders_each = 5;

int produce(OrderQueue& q, int id) {
    q.close_reading();
    for (int seq = 0; seq < orders_each; ++seq)
        q.put({id, seq, 1.25 * (seq + 1), items[seq]});
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: queues_basic\n"); return 2; }
    try {
        Order sample{0, 0, 1.25, "apple"};
        std::printf("frame for {0, 0, 1.25, \"apple\"}: 4-byte length + %zu payload bytes\n",
                    serialise(sample).size());

        OrderQueue queue;
        std::vector<Child> children;
        for (int id = 0; id < producers; ++id)
            children.emplace_back([&queue, id] { return produce(queue, id); });
        queue.close_writing();               // so get() sees EOF when producers finish

        int received = 0, out_of_order = 0, corrupted = 0;
        int next_seq[producers] = {};
        while (auto o = queue.get()) {
            ++received;
            if (o->producer < 0 || o->producer >= producers || o->seq < 0 || o->seq >= orders_each) {
                ++corrupted;                 // never index with numbers we did not check
                continue;
            }
            if (o->seq != next_seq[o->producer]++) ++out_of_order;
            if (o->item != items[o->seq] || o->price != 1.25 * (o->seq + 1)) ++corrupted;
        }
        bool ok = true;
        for (auto& c : children) ok = (c.wait() == 0) && ok;
        std::printf("received %d orders from %d producers (expected %d)\n", received, producers,
                    producers * orders_each);
        std::printf("per producer in order: %s; fields intact: %s\n",
                    out_of_order == 0 ? "yes" : "no", corrupted == 0 ? "yes" : "no");
        ok = ok && received == producers * orders_each && out_of_order == 0 && corrupted == 0;
        std::printf("%s\n", ok ? "EOF ended the stream: no sentinel message needed" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "queues_basic: %s\n", e.what());
        return 1;
    }
}
