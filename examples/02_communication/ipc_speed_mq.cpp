// ipc_speed_mq.cpp — how fast a POSIX message queue moves messages of three
// sizes from one process to another, and where its size limit stops it (shared
// checks: ipc_speed.hpp). A first impression, printed, never judged.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <stdexcept>
#include <string>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc_speed.hpp"

namespace {

/// A queue opened before fork(), so the child inherits the descriptor. The
/// name is unlinked at once: nothing can be left in the mqueue file system.
class Queue {
public:
    explicit Queue(long msg_size) {
        std::string name = "/ipc_speed_mq-" + std::to_string(::getpid());
        mq_attr attr{};
        attr.mq_maxmsg = 10;  // the default msg_max for unprivileged users
        attr.mq_msgsize = msg_size;
        mq_ = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        check(mq_ == (mqd_t)-1 ? -1 : 0, "mq_open");
        if (::mq_unlink(name.c_str()) == -1) { int e = errno; ::mq_close(mq_); errno = e; check(-1, "mq_unlink"); }
    }
    ~Queue() { ::mq_close(mq_); }
    Queue(const Queue&) = delete;
    void send(const char* p, size_t n) {  // one message, boundaries kept: no loop
        while (::mq_send(mq_, p, n, 0) == -1) if (errno != EINTR) check(-1, "mq_send");
    }
    // No end-of-file here: we hold the queue too, so only a time-out can tell
    // us that the sender died. mq_timedreceive wants a CLOCK_REALTIME deadline.
    size_t receive(char* p, size_t capacity) {
        timespec deadline{};
        check(::clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
        deadline.tv_sec += 5;
        ssize_t k;
        while ((k = ::mq_timedreceive(mq_, p, capacity, nullptr, &deadline)) == -1) {
            if (errno == ETIMEDOUT) throw std::runtime_error("no message within 5 s: the sender is gone");
            if (errno != EINTR) check(-1, "mq_timedreceive");
        }
        return static_cast<size_t>(k);
    }
private:
    mqd_t mq_;
};

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

/// A child sends `count` numbered messages; we receive and check every one.
/// Returns MB/s, or -1 if a message arrived damaged, short or out of order.
double throughput(size_t size, std::uint64_t count) {
    Queue q(static_cast<long>(size));
    auto t0 = std::chrono::steady_clock::now();
    std::fflush(stdout);
    Child producer(check(::fork(), "fork"));
    if (producer.pid == 0) {  // the child ends here, whatever happens: never in main's code
        _exit(produce("ipc_speed_mq", q, size, count));
    }
    double mbs = consume(q, size, count, t0);
    int status = 0;  // the producer has sent everything: this wait is short
    check(::waitpid(producer.pid, &status, 0), "waitpid");
    producer.pid = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? mbs : -1;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: ipc_speed_mq\n"); return 2; }
    try {
        long limit = 8192;  // the largest message a queue may hold (8192 by default)
        std::ifstream("/proc/sys/fs/mqueue/msgsize_max") >> limit;
        bool ok = true;
        std::printf("throughput in MB/s (higher is better), one producer -> one consumer\n");
        std::printf("%-8s %10s\n", "message", "POSIX mq");
        for (const Row& r : kRows) {
            if (static_cast<long>(r.size) > limit) {  // mq_open would fail with EINVAL
                std::printf("%-8s %10s (over msgsize_max = %ld)\n", r.label, "n/a", limit);
                continue;
            }
            double mbs = throughput(r.size, r.count);
            ok = ok && mbs > 0;
            std::printf("%-8s %10.0f\n", r.label, mbs);
        }
        return verdict(ok);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipc_speed_mq: %s\n", e.what());
        return 1;
    }
}
