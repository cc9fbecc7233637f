// ipc_throughput.cpp — a quick measurement of four ways to move bytes between
// two processes: pipe, socketpair, POSIX message queue, and shared memory
// (a ring of slots handed over with two process-shared semaphores).
// Throughput for a few message sizes, then the round-trip time of a small
// message. Small counts on purpose: about a second in all. Chapter 6 has the
// thorough benchmark; this table is a first impression from this machine.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "ipc_throughput";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

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

/// One direction of a channel, created before fork() and used by both sides.
/// The protocol is a fixed message count, so nobody relies on EOF -- and since
/// both processes hold both ends, a dead peer gives no EOF either. So every
/// receive has a deadline (CLOCK_REALTIME, as mq_timedreceive and sem_timedwait
/// want it): a link that has not finished within 20 s throws.
class Link {
public:
    Link() {
        check(::clock_gettime(CLOCK_REALTIME, &deadline_), "clock_gettime");
        deadline_.tv_sec += 20;
    }
    virtual ~Link() = default;
    virtual void send(const char* p, size_t n) = 0;
    virtual void recv(char* p, size_t n) = 0;   // one whole message of n bytes
protected:
    int ms_left() const {                        // for poll()
        timespec now{};
        check(::clock_gettime(CLOCK_REALTIME, &now), "clock_gettime");
        long ms = (deadline_.tv_sec - now.tv_sec) * 1000 + (deadline_.tv_nsec - now.tv_nsec) / 1'000'000;
        if (ms <= 0) throw std::runtime_error("no message within 20 s: the peer is gone");
        return static_cast<int>(ms);
    }
    timespec deadline_{};
};

/// Pipes and stream sockets are byte streams: loop until all n bytes moved.
/// The read end is non-blocking: poll() only when there is nothing to read,
/// so the measured path is one read() per message, as without a deadline.
class StreamLink : public Link {
public:
    StreamLink(int read_fd, int write_fd) : r_(read_fd), w_(write_fd) {
        check(::fcntl(r_, F_SETFL, O_NONBLOCK), "fcntl");
    }
    ~StreamLink() override { ::close(r_); ::close(w_); }
    void send(const char* p, size_t n) override {
        while (n) {
            ssize_t k = ::write(w_, p, n);
            if (k == -1 && errno == EINTR) continue;
            check(static_cast<int>(k), "write");
            p += k; n -= static_cast<size_t>(k);
        }
    }
    void recv(char* p, size_t n) override {
        while (n) {
            ssize_t k = ::read(r_, p, n);
            if (k == -1 && errno == EAGAIN) {
                pollfd pfd{r_, POLLIN, 0};
                if (check(::poll(&pfd, 1, ms_left()), "poll") == 0) ms_left();   // throws
                continue;
            }
            if (k == -1 && errno == EINTR) continue;
            check(static_cast<int>(k), "read");
            if (k == 0) throw std::runtime_error("unexpected end-of-file");
            p += k; n -= static_cast<size_t>(k);
        }
    }
private:
    int r_, w_;
};

std::unique_ptr<Link> make_pipe() {
    int fds[2];
    check(::pipe(fds), "pipe");
    return std::make_unique<StreamLink>(fds[0], fds[1]);
}

std::unique_ptr<Link> make_socketpair() {
    int sv[2];
    check(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
    return std::make_unique<StreamLink>(sv[1], sv[0]);   // write sv[0], read sv[1]
}

/// A message queue. Its name is unlinked right after mq_open: the descriptor
/// is inherited by fork(), and nothing can leak into the mqueue file system.
class MqLink : public Link {
public:
    explicit MqLink(size_t msg_size) : size_(msg_size) {
        std::string name = "/ipc_throughput-" + std::to_string(::getpid());
        mq_attr attr{};
        attr.mq_maxmsg = 10;             // the default msg_max for unprivileged users
        attr.mq_msgsize = static_cast<long>(msg_size);
        mq_ = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        check(mq_ == (mqd_t)-1 ? -1 : 0, "mq_open");
        check(::mq_unlink(name.c_str()), "mq_unlink");
    }
    ~MqLink() override { ::mq_close(mq_); }
    void send(const char* p, size_t n) override {
        while (::mq_send(mq_, p, n, 0) == -1) if (errno != EINTR) check(-1, "mq_send");
    }
    void recv(char* p, size_t n) override {
        ssize_t k;
        while ((k = ::mq_timedreceive(mq_, p, size_, nullptr, &deadline_)) == -1)
            if (errno != EINTR) check(-1, "mq_timedreceive");
        if (static_cast<size_t>(k) != n) throw std::runtime_error("short message");
    }
private:
    size_t size_;
    mqd_t mq_;
};

/// Shared memory: a ring of slots in an anonymous MAP_SHARED mapping.
/// "items" counts full slots, "spaces" free ones; each side keeps its own index.
class ShmLink : public Link {
public:
    explicit ShmLink(size_t slot_size) : slot_size_(slot_size) {
        bytes_ = sizeof(Header) + slots * slot_size;
        void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        h_ = static_cast<Header*>(p);
        check(::sem_init(&h_->items, 1, 0), "sem_init");       // 1 = shared between processes
        check(::sem_init(&h_->spaces, 1, slots), "sem_init");
    }
    ~ShmLink() override {
        ::sem_destroy(&h_->items);
        ::sem_destroy(&h_->spaces);
        ::munmap(h_, bytes_);
    }
    void send(const char* p, size_t n) override {
        wait(&h_->spaces, deadline_);
        std::memcpy(slot(next_send_++), p, n);
        check(::sem_post(&h_->items), "sem_post");
    }
    void recv(char* p, size_t n) override {
        wait(&h_->items, deadline_);
        std::memcpy(p, slot(next_recv_++), n);   // copy out, like the others do
        check(::sem_post(&h_->spaces), "sem_post");
    }
private:
    static constexpr unsigned slots = 32;
    struct Header { sem_t items, spaces; };
    static void wait(sem_t* s, const timespec& deadline) {
        while (::sem_timedwait(s, &deadline) == -1) if (errno != EINTR) check(-1, "sem_timedwait");
    }
    char* slot(size_t i) { return reinterpret_cast<char*>(h_ + 1) + (i % slots) * slot_size_; }
    size_t slot_size_, bytes_;
    Header* h_;
    size_t next_send_ = 0, next_recv_ = 0;
};

long mq_msgsize_max() {
    std::ifstream in("/proc/sys/fs/mqueue/msgsize_max");
    long v = 8192;
    in >> v;
    return v;
}

std::unique_ptr<Link> make_link(int kind, size_t size) {
    switch (kind) {
        case 0: return make_pipe();
        case 1: return make_socketpair();
        case 2: return std::make_unique<MqLink>(size);
        default: return std::make_unique<ShmLink>(size);
    }
}

using Clock = std::chrono::steady_clock;

/// A child sends `count` numbered messages; we receive and verify each one.
/// Returns MB/s, or -1 if a message arrived out of order or damaged.
double throughput(int kind, size_t size, int count) {
    auto link = make_link(kind, size);
    auto t0 = Clock::now();
    Child producer([&] {
        std::vector<char> msg(size, 'x');
        for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(count); ++i) {
            std::memcpy(msg.data(), &i, sizeof i);
            link->send(msg.data(), size);
        }
        return 0;
    });
    std::vector<char> msg(size);
    bool intact = true;
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(count); ++i) {
        link->recv(msg.data(), size);
        std::uint64_t seq;
        std::memcpy(&seq, msg.data(), sizeof seq);
        intact = intact && seq == i && msg.back() == 'x';
    }
    std::chrono::duration<double> dt = Clock::now() - t0;
    intact = producer.wait() == 0 && intact;
    return intact ? static_cast<double>(size) * count / dt.count() / 1e6 : -1;
}

/// Ping-pong: the child echoes each small message back. Returns microseconds
/// per round trip, or -1 if an echo was wrong.
double round_trip_us(int kind, int rounds) {
    constexpr size_t size = 64;
    auto there = make_link(kind, size), back = make_link(kind, size);
    Child echo([&] {
        char buf[size];
        for (int i = 0; i < rounds; ++i) { there->recv(buf, size); back->send(buf, size); }
        return 0;
    });
    char out[size] = {}, in[size];
    bool intact = true;
    auto t0 = Clock::now();
    for (int i = 0; i < rounds; ++i) {
        std::memcpy(out, &i, sizeof i);
        there->send(out, size);
        back->recv(in, size);
        intact = intact && std::memcmp(in, out, size) == 0;
    }
    std::chrono::duration<double, std::micro> dt = Clock::now() - t0;
    intact = echo.wait() == 0 && intact;
    return intact ? dt.count() / rounds : -1;
}

const char* const names[] = {"pipe", "socketpair", "POSIX mq", "shared mem"};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: ipc_throughput\n"); return 2; }
    try {
        struct Row { const char* label; size_t size; int count; };
        const Row rows[] = {{"64 B", 64, 20'000}, {"4 KiB", 4096, 5'000}, {"64 KiB", 65536, 400}};
        bool ok = true;

        std::printf("throughput in MB/s (higher is better), one producer -> one consumer\n");
        std::printf("%-8s %10s %10s %10s %10s\n", "message", names[0], names[1], names[2], names[3]);
        for (const Row& r : rows) {
            std::printf("%-8s", r.label);
            for (int kind = 0; kind < 4; ++kind) {
                if (kind == 2 && static_cast<long>(r.size) > mq_msgsize_max()) {
                    std::printf(" %10s", "n/a");   // larger than the queue's message limit
                    continue;
                }
                double mbs = throughput(kind, r.size, r.count);
                ok = ok && mbs > 0;
                std::printf(" %10.0f", mbs);
            }
            std::printf("\n");
        }

        std::printf("round trip of a 64-byte message in microseconds (lower is better)\n");
        std::printf("%-8s", "64 B");
        for (int kind = 0; kind < 4; ++kind) {
            double us = round_trip_us(kind, 2'000);
            ok = ok && us > 0;
            std::printf(" %10.1f", us);
        }
        std::printf("\n");
        std::printf("%s\n", ok ? "every message arrived complete and in order" : "FAILED: data damaged");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipc_throughput: %s\n", e.what());
        return 1;
    }
}
