// ipc_benchmark.cpp — latency and throughput of four kernel IPC channels between
// two processes, across message sizes, measured against the same copy and check
// done in one process (memcpy_verify).
//
// Channels: pipe, socketpair, POSIX message queue and Unix stream socket (named,
// abstract address). The shared-memory ring is measured by shm_ring.cpp.
//
// Quick mode (default) runs in a few seconds; --full repeats more and moves more
// data. Output: two CSV tables (plotted on the page).
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <string_view>
#include <utility>
#include <vector>

#include "bench_harness.hpp"  // Child, the checked data, the baseline, Spread

namespace {

double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Config {
    bool full = false;
    int repeats = 3;                  // throughput runs per (channel, size)
    std::size_t stream_bytes = 4 << 20;  // bytes per throughput run (before clamping)
    std::size_t max_msgs = 10000;     // cap on messages per throughput run
    std::size_t max_pings = 2000;     // cap on round trips per latency run
};

const std::vector<std::size_t> kSizes = {64, 1024, 8192, 64 << 10, 1 << 20};

// ---------------------------------------------------------------- resources

/// An owned file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

// Every wait for the peer is bounded: a peer that died, or stopped sending,
// ends the run with an error after this long instead of hanging it.
constexpr int kPeerTimeoutMs = 10'000;

[[noreturn]] void peer_silent(const char* what) {
    throw std::runtime_error(std::string(what) + ": the peer was silent for 10 s");
}

/// Wait (at most kPeerTimeoutMs) until a non-blocking fd is ready for `events`.
void wait_ready(int fd, short events) {
    pollfd pfd{fd, events, 0};
    int r;
    while ((r = ::poll(&pfd, 1, kPeerTimeoutMs)) == -1 && errno == EINTR) {
    }
    if (check(r, "poll") == 0) peer_silent("poll");
}

void write_all(int fd, const std::byte* p, std::size_t n) {
    while (n > 0) {  // a stream may accept fewer bytes than asked: loop
        ssize_t w = ::write(fd, p, n);
        if (w == -1 && errno == EINTR) continue;
        if (w == -1 && errno == EAGAIN) {  // full: wait for room, but not for ever
            wait_ready(fd, POLLOUT);
            continue;
        }
        check(w, "write");
        p += w;
        n -= static_cast<std::size_t>(w);
    }
}

void read_all(int fd, std::byte* p, std::size_t n) {
    while (n > 0) {  // a stream delivers bytes, not messages: loop until n arrived
        ssize_t r = ::read(fd, p, n);
        if (r == -1 && errno == EINTR) continue;
        if (r == -1 && errno == EAGAIN) {  // empty: wait for data, but not for ever
            wait_ready(fd, POLLIN);
            continue;
        }
        if (check(r, "read") == 0) throw std::runtime_error("read: unexpected end of stream");
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

/// One side of a channel: send exactly n bytes as one message, receive one.
struct Endpoint {
    virtual ~Endpoint() = default;
    virtual void send(const std::byte* p, std::size_t n) = 0;
    /// Wait for the next message (n bytes), copied into buf (room for kMaxSize bytes).
    virtual std::span<const std::byte> receive(std::byte* buf, std::size_t n) = 0;
};

/// A channel made before fork(): the parent uses a(), the child uses b().
struct Channel {
    virtual ~Channel() = default;
    virtual Endpoint& a() = 0;
    virtual Endpoint& b() = 0;
};

struct StreamEndpoint : Endpoint {
    int in = -1, out = -1;
    void send(const std::byte* p, std::size_t n) override { write_all(out, p, n); }
    std::span<const std::byte> receive(std::byte* buf, std::size_t n) override {
        read_all(in, buf, n);
        return {buf, n};
    }
};

// ANCHOR: streams
class PipeChannel : public Channel {
public:
    PipeChannel() {
        int ab[2], ba[2];
        // O_NONBLOCK: read_all and write_all wait in poll(), with a time-out.
        check(::pipe2(ab, O_CLOEXEC | O_NONBLOCK), "pipe2");
        ab_r_ = Fd(ab[0]), ab_w_ = Fd(ab[1]);
        check(::pipe2(ba, O_CLOEXEC | O_NONBLOCK), "pipe2");
        ba_r_ = Fd(ba[0]), ba_w_ = Fd(ba[1]);
        a_.out = ab_w_.get(), a_.in = ba_r_.get();
        b_.out = ba_w_.get(), b_.in = ab_r_.get();
    }
    Endpoint& a() override { return a_; }
    Endpoint& b() override { return b_; }

private:
    Fd ab_r_, ab_w_, ba_r_, ba_w_;
    StreamEndpoint a_, b_;
};

/// Two connected stream sockets, from socketpair() or from listen/connect/accept.
class SocketChannel : public Channel {
public:
    SocketChannel(Fd x, Fd y) : x_(std::move(x)), y_(std::move(y)) {
        a_.in = a_.out = x_.get();
        b_.in = b_.out = y_.get();
    }
    Endpoint& a() override { return a_; }
    Endpoint& b() override { return b_; }

private:
    Fd x_, y_;
    StreamEndpoint a_, b_;
};

std::unique_ptr<Channel> make_socketpair() {
    int sv[2];
    check(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), "socketpair");
    return std::make_unique<SocketChannel>(Fd(sv[0]), Fd(sv[1]));
}

/// A named Unix stream socket. The name lives in the abstract namespace
/// (first byte '\0'), so there is no file to unlink afterwards.
std::unique_ptr<Channel> make_unix_socket() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = "ipc_benchmark." + std::to_string(::getpid());
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    auto* sa = reinterpret_cast<sockaddr*>(&addr);

    Fd listener(static_cast<int>(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket")));
    check(::bind(listener.get(), sa, len), "bind");
    check(::listen(listener.get(), 1), "listen");
    // connect() to a listening Unix socket completes at once (the kernel queues
    // it), so one process can make both ends and hand one to the child.
    Fd client(static_cast<int>(check(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), "socket")));
    check(::connect(client.get(), sa, len), "connect");
    Fd server(static_cast<int>(check(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK), "accept4")));
    return std::make_unique<SocketChannel>(std::move(server), std::move(client));
}
// ANCHOR_END: streams

// ANCHOR: mqueue
/// An open POSIX message queue. It is unlinked right after creation: the
/// descriptors (inherited by the child) keep it alive, and nothing can leak.
class MessageQueue {
public:
    MessageQueue(const std::string& name, std::size_t msgsize, long maxmsg) {
        mq_attr attr{};
        attr.mq_maxmsg = maxmsg;
        attr.mq_msgsize = static_cast<long>(msgsize);
        q_ = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        if (q_ == static_cast<mqd_t>(-1)) throw std::system_error(errno, std::generic_category(), "mq_open");
        check(::mq_unlink(name.c_str()), "mq_unlink");
    }
    MessageQueue(const MessageQueue&) = delete;
    MessageQueue& operator=(const MessageQueue&) = delete;
    ~MessageQueue() { ::mq_close(q_); }
    mqd_t get() const { return q_; }

private:
    mqd_t q_;
};

/// The moment kPeerTimeoutMs from now, on the clock mq_timed* use.
timespec mq_deadline() {
    timespec t{};
    check(::clock_gettime(CLOCK_REALTIME, &t), "clock_gettime");
    t.tv_sec += kPeerTimeoutMs / 1000;
    return t;
}

struct MqEndpoint : Endpoint {
    mqd_t in{}, out{};
    std::size_t msgsize = 0;
    void send(const std::byte* p, std::size_t n) override {
        timespec until = mq_deadline();  // a bounded wait when the queue is full
        while (::mq_timedsend(out, reinterpret_cast<const char*>(p), n, 0, &until) == -1) {
            if (errno == ETIMEDOUT) peer_silent("mq_timedsend");
            if (errno != EINTR) check(-1, "mq_timedsend");
        }
    }
    std::span<const std::byte> receive(std::byte* buf, std::size_t n) override {
        timespec until = mq_deadline();
        ssize_t r;  // the buffer must be at least mq_msgsize bytes
        while ((r = ::mq_timedreceive(in, reinterpret_cast<char*>(buf), msgsize, nullptr, &until)) == -1) {
            if (errno == ETIMEDOUT) peer_silent("mq_timedreceive");
            if (errno != EINTR) check(-1, "mq_timedreceive");
        }
        if (static_cast<std::size_t>(r) != n) throw std::runtime_error("mq_timedreceive: wrong size");
        return {buf, n};
    }
};

class MqChannel : public Channel {
public:
    MqChannel(std::size_t msgsize, long maxmsg)
        : ab_(name("ab"), msgsize, maxmsg), ba_(name("ba"), msgsize, maxmsg) {
        a_.out = ab_.get(), a_.in = ba_.get(), a_.msgsize = msgsize;
        b_.out = ba_.get(), b_.in = ab_.get(), b_.msgsize = msgsize;
    }
    Endpoint& a() override { return a_; }
    Endpoint& b() override { return b_; }

private:
    static std::string name(const char* dir) {
        return "/ipc_benchmark." + std::to_string(::getpid()) + "." + dir;
    }
    MessageQueue ab_, ba_;
    MqEndpoint a_, b_;
};
// ANCHOR_END: mqueue

/// One-way latency = half a round trip (ping, echo). Median and IQR of samples.
Spread measure_latency(Channel& ch, std::size_t size, std::size_t pings) {
    const std::size_t warmup = 10;
    reset_pool();
    Child echo([&] {
        std::vector<std::byte> buf(kMaxSize);
        for (std::size_t i = 0; i < warmup + pings; ++i) {
            auto msg = ch.b().receive(buf.data(), size);
            ch.b().send(msg.data(), size);
        }
    });
    std::vector<std::byte> buf(kMaxSize, std::byte{1});
    std::vector<double> one_way;
    for (std::size_t i = 0; i < warmup + pings; ++i) {
        const std::byte* msg = next_message(i, size);
        auto t0 = Clock::now();
        ch.a().send(msg, size);
        auto echoed = ch.a().receive(buf.data(), size);
        auto t1 = Clock::now();
        verify(echoed, i);  // the echo came back whole (checked outside the timing)
        if (i >= warmup) one_way.push_back(micros(t1 - t0) / 2);
    }
    echo.join();
    return {quantile(one_way, 0.5), quantile(one_way, 0.25), quantile(one_way, 0.75)};
}

// ANCHOR: throughput
/// Stream `count` messages one way, then wait for a 1-byte acknowledgement.
/// The receiver reads and checks every byte of every message. Throughput in
/// MiB/s; median, min and max over the repeats.
Spread measure_throughput(Channel& ch, std::size_t size, std::size_t count, int repeats) {
    reset_pool();
    Child sink([&] {
        std::vector<std::byte> buf(kMaxSize);
        for (int r = 0; r < repeats + 1; ++r) {
            for (std::size_t i = 0; i < count; ++i) {
                verify(ch.b().receive(buf.data(), size), i);  // check every byte
            }
            ch.b().send(buf.data(), 1);
        }
    });
    std::vector<std::byte> ack(kMaxSize);
    std::vector<double> mib_s;
    for (int r = 0; r < repeats + 1; ++r) {  // run 0 warms up and is dropped
        auto t0 = Clock::now();
        for (std::size_t i = 0; i < count; ++i) ch.a().send(next_message(i, size), size);
        ch.a().receive(ack.data(), 1);
        double s = seconds(Clock::now() - t0);
        if (r > 0) mib_s.push_back(static_cast<double>(size * count) / s / (1 << 20));
    }
    sink.join();
    return {quantile(mib_s, 0.5), quantile(mib_s, 0), quantile(mib_s, 1)};
}
// ANCHOR_END: throughput

long read_proc_long(const char* path) {
    std::ifstream in(path);
    long v = 0;
    if (!(in >> v)) throw std::runtime_error(std::string("cannot read ") + path);
    return v;
}

struct Transport {
    std::string name;
    std::function<std::unique_ptr<Channel>(std::size_t size)> make;  // null: size unsupported
};

std::vector<Transport> transports(std::size_t mq_msgsize_max, long mq_msg_max) {
    long maxmsg = std::min(10L, mq_msg_max);
    return {
        {"pipe", [](std::size_t) { return std::make_unique<PipeChannel>(); }},
        {"socketpair", [](std::size_t) { return make_socketpair(); }},
        {"mqueue",
         [=](std::size_t size) -> std::unique_ptr<Channel> {
             if (size > mq_msgsize_max) return nullptr;
             return std::make_unique<MqChannel>(size, maxmsg);
         }},
        {"unix_socket", [](std::size_t) { return make_unix_socket(); }},
    };
}


std::size_t clamp_count(std::size_t budget_bytes, std::size_t size, std::size_t lo, std::size_t hi) {
    return std::clamp(budget_bytes / size, lo, hi);
}

}  // namespace

// Measure every channel at every size: latency, then throughput against the
// same work done in one process.
void benchmark(const Config& cfg) {
    auto mq_msgsize_max = static_cast<std::size_t>(read_proc_long("/proc/sys/fs/mqueue/msgsize_max"));
    long mq_msg_max = read_proc_long("/proc/sys/fs/mqueue/msg_max");
    std::printf("mode: %s (%d throughput runs per point, up to %zu MiB per run; --full for more)\n",
                cfg.full ? "full" : "quick", cfg.repeats, cfg.stream_bytes >> 20);
    std::printf("load average at start: %s (other processes compete for the same CPUs)\n",
                load_average().c_str());
    std::printf("mqueue: msgsize_max = %zu B, so larger messages are skipped for it\n\n",
                mq_msgsize_max);

    auto all = transports(mq_msgsize_max, mq_msg_max);

    std::printf("# csv latency\ntransport,size_bytes,median_us,p25_us,p75_us\n");
    for (auto& t : all)
        for (std::size_t size : kSizes) {
            auto ch = t.make(size);
            if (!ch) continue;
            std::size_t pings = clamp_count(cfg.full ? 256 << 20 : 16 << 20, size, 20, cfg.max_pings);
            Spread s = measure_latency(*ch, size, pings);
            std::printf("%s,%zu,%.2f,%.2f,%.2f\n", t.name.c_str(), size, s.median, s.lo, s.hi);
        }

    std::printf("\n# csv throughput\ntransport,size_bytes,median_mib_s,min_mib_s,max_mib_s\n");
    for (std::size_t k = 0; k < kSizes.size(); ++k) {
        std::size_t size = kSizes[k];
        std::size_t count = clamp_count(cfg.stream_bytes, size, 8, cfg.max_msgs);
        Spread s = measure_memcpy_verify(size, count, cfg.repeats);
        std::printf("memcpy_verify,%zu,%.0f,%.0f,%.0f\n", size, s.median, s.lo, s.hi);
    }
    for (auto& t : all)
        for (std::size_t k = 0; k < kSizes.size(); ++k) {
            std::size_t size = kSizes[k];
            auto ch = t.make(size);
            if (!ch) continue;
            std::size_t count = clamp_count(cfg.stream_bytes, size, 8, cfg.max_msgs);
            Spread s = measure_throughput(*ch, size, count, cfg.repeats);
            std::printf("%s,%zu,%.0f,%.0f,%.0f\n", t.name.c_str(), size, s.median, s.lo, s.hi);
        }

    // Every receiver checked every byte; a damaged message would have ended the run.
    std::printf("\nevery byte of every message of every run arrived intact and in order\n");
    std::printf("load average at end: %s\n", load_average().c_str());
}

int main(int argc, char** argv) {
    Config cfg;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--full") {
            cfg = Config{true, 15, std::size_t{64} << 20, 100000, 20000};
        } else {
            std::fprintf(stderr, "usage: %s [--full]\n", argv[0]);
            return 2;
        }
    }
    try {
        benchmark(cfg);
        return 0;
    } catch (const std::exception& e) {  // the owners (Child, Fd, ...) have cleaned up
        std::fflush(stdout);
        std::fprintf(stderr, "ipc_benchmark: %s\n", e.what());
        return 1;
    }
}
