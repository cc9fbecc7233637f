// mq_full.cpp - a POSIX message queue has a capacity, fixed when it is created
// and bounded by system-wide limits. A blocking mq_send() waits while the queue
// is full; on a queue set to O_NONBLOCK it fails with EAGAIN instead.
// Python: Queue(maxsize=4); q.put(x, block=False) raises queue.Full.
#include <fcntl.h>
#include <mqueue.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// The creator owns the queue's NAME: its destructor unlinks it.
struct OwnedQueue {
    OwnedQueue(const std::string& n, long capacity, long msg_size) : name(n) {
        mq_attr attr{};
        attr.mq_maxmsg = capacity;
        attr.mq_msgsize = msg_size;
        mq = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        check(mq == (mqd_t)-1 ? -1 : 0, "mq_open");
    }
    OwnedQueue(const OwnedQueue&) = delete;
    ~OwnedQueue() { ::mq_close(mq); ::mq_unlink(name.c_str()); }
    std::string name;
    mqd_t mq;
};

// The limits an unprivileged process must stay within.
long limit(const char* file) {
    std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
    long v = -1;
    in >> v;
    return v;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        std::printf("system limits: msg_max=%ld msgsize_max=%ld queues_max=%ld\n",
                    limit("msg_max"), limit("msgsize_max"), limit("queues_max"));
        constexpr long capacity = 4;
        OwnedQueue queue("/mq_full-" + std::to_string(::getpid()), capacity, 64);

        mq_attr nonblocking{};
        nonblocking.mq_flags = O_NONBLOCK;   // the only flag mq_setattr() changes
        check(::mq_setattr(queue.mq, &nonblocking, nullptr), "mq_setattr");
        int sent = 0;
        while (::mq_send(queue.mq, "x", 1, 0) == 0) ++sent;
        const int err = errno;
        mq_attr now{};
        check(::mq_getattr(queue.mq, &now), "mq_getattr");
        std::printf("queue full after %d messages (mq_curmsgs=%ld): mq_send -> %s\n", sent,
                    now.mq_curmsgs, err == EAGAIN ? "EAGAIN" : std::strerror(err));
        const bool ok = sent == capacity && err == EAGAIN;
        std::printf("%s\n", ok ? "a full queue refuses at once: Python's queue.Full" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mq_full: %s\n", e.what());
        return 1;
    }
}
