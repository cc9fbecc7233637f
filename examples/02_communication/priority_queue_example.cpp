// priority_queue_example.cpp - message priorities with a POSIX message queue:
// mq_receive() always returns the oldest message of the highest priority.
// Python: multiprocessing has no priority queue; people emulate one with a
// Manager around queue.PriorityQueue. Here the kernel does it.
#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// The creator owns the queue's NAME: its destructor unlinks it.
struct OwnedQueue {
    explicit OwnedQueue(const std::string& n) : name(n) {
        mq_attr attr{};
        attr.mq_maxmsg = 8;
        attr.mq_msgsize = 64;
        mq = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        check(mq == (mqd_t)-1 ? -1 : 0, "mq_open");
    }
    OwnedQueue(const OwnedQueue&) = delete;
    ~OwnedQueue() { ::mq_close(mq); ::mq_unlink(name.c_str()); }
    std::string name;
    mqd_t mq;
};

// Sent in this order on purpose: priorities mixed, two jobs share priority 5.
// 0 is the lowest priority; Linux allows up to 32767.
const struct { const char* text; unsigned priority; } jobs[] = {
    {"write the weekly report", 0}, {"answer email A", 5}, {"SERVER IS DOWN", 9},
    {"answer email B", 5},          {"water the plants", 0}, {"fix login bug", 7},
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        OwnedQueue queue("/priority_queue_example-" + std::to_string(::getpid()));
        // All six are queued before the first is received, so the order we see
        // is decided by the priorities alone. The sender could as well be
        // another process that knows the name (posix_mq.cpp).
        for (const auto& j : jobs)
            check(::mq_send(queue.mq, j.text, std::strlen(j.text), j.priority), "mq_send");
        std::vector<std::string> got;
        char buf[64];                    // must be >= mq_msgsize, or EMSGSIZE
        for (size_t i = 0; i < std::size(jobs); ++i) {
            unsigned prio = 0;
            ssize_t n = check(static_cast<int>(::mq_receive(queue.mq, buf, sizeof buf, &prio)),
                              "mq_receive");
            got.emplace_back(buf, static_cast<size_t>(n));
            std::printf("received priority %u: %s\n", prio, got.back().c_str());
        }
        const bool ok = got == std::vector<std::string>{"SERVER IS DOWN", "fix login bug",
            "answer email A", "answer email B", "write the weekly report", "water the plants"};
        std::printf("%s\n", ok ? "highest priority first, FIFO within one priority" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "priority_queue_example: %s\n", e.what());
        return 1;
    }
}
