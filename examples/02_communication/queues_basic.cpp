// queues_basic.cpp — a message queue between processes built from a pipe:
// each message is sent as a length-prefixed frame (queue_serialise.cpp turns
// a struct into such a message). Python: multiprocessing.Queue does the same.
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
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

// A 4-byte length in front of the message: the same machine reads it back.
void put_length(std::string& out, std::uint32_t n) {
    out.append(reinterpret_cast<const char*>(&n), sizeof n);
}

// --- framing: a byte stream has no message boundaries, so we add them ---------
/// A queue of messages over one pipe. Many producers may put() concurrently:
/// each frame goes out in ONE write() of at most PIPE_BUF bytes, which the
/// kernel never interleaves with another writer's.
class MessageQueue {
public:
    MessageQueue() {
        int fds[2];
        check(::pipe(fds), "pipe");
        read_end_.reset(fds[0]);
        write_end_.reset(fds[1]);
    }
    void put(const std::string& message) {
        std::string frame;
        put_length(frame, static_cast<std::uint32_t>(message.size()));
        frame += message;
        if (frame.size() > PIPE_BUF) throw std::length_error("frame larger than PIPE_BUF");
        check(static_cast<int>(::write(write_end_.get(), frame.data(), frame.size())), "write");
    }
    /// Returns nullopt at EOF: every producer has closed its end.
    std::optional<std::string> get() {
        std::uint32_t len = 0;
        std::string header, message;
        if (!read_exact(header, sizeof len)) return std::nullopt;
        std::memcpy(&len, header.data(), sizeof len);
        if (!read_exact(message, len)) throw std::runtime_error("truncated frame");
        return message;
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

// A message: "<producer> <seq> <item>", so the consumer can check each one.
std::string order(int id, int seq) {
    return std::to_string(id) + ' ' + std::to_string(seq) + ' ' + items[seq];
}

int produce(MessageQueue& q, int id) {
    q.close_reading();
    for (int seq = 0; seq < orders_each; ++seq) q.put(order(id, seq));
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: queues_basic\n"); return 2; }
    try {
        std::printf("frame for \"%s\": 4-byte length + %zu message bytes\n",
                    order(0, 0).c_str(), order(0, 0).size());
        MessageQueue queue;
        std::vector<Child> children;
        for (int id = 0; id < producers; ++id)
            children.emplace_back([&queue, id] { return produce(queue, id); });
        queue.close_writing();               // so get() sees EOF when producers finish

        int received = 0, out_of_order = 0, corrupted = 0;
        int next_seq[producers] = {};
        while (auto m = queue.get()) {
            ++received;
            const int id = m->empty() ? -1 : (*m)[0] - '0';  // one digit: producers < 10
            if (id < 0 || id >= producers) { ++corrupted; continue; }
            const int seq = next_seq[id]++;  // what this producer must have sent next
            if (seq >= orders_each || *m != order(id, seq)) ++out_of_order;
        }
        bool ok = true;
        for (auto& c : children) ok = (c.wait() == 0) && ok;
        std::printf("received %d orders from %d producers (expected %d)\n", received, producers,
                    producers * orders_each);
        std::printf("per producer in order and intact: %s; from no producer: %d\n",
                    out_of_order == 0 ? "yes" : "no", corrupted);
        ok = ok && received == producers * orders_each && out_of_order == 0 && corrupted == 0;
        std::printf("%s\n", ok ? "EOF ended the stream: no sentinel message needed" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "queues_basic: %s\n", e.what());
        return 1;
    }
}
