// priority_queue_example.cpp — message priorities with a POSIX message queue:
// mq_receive always returns the oldest message of the highest priority.
// Python: multiprocessing has no priority queue; people emulate one with a
// Manager around queue.PriorityQueue. Here the kernel does it.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <iterator>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "priority_queue_example";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Creates the queue and unlinks its name on destruction.
class OwnedQueue {
public:
    OwnedQueue(std::string name, long max_messages, long message_size) : name_(std::move(name)) {
        mq_attr attr{};
        attr.mq_maxmsg = max_messages;
        attr.mq_msgsize = message_size;
        mq_ = ::mq_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        check(mq_ == (mqd_t)-1 ? -1 : 0, "mq_open");
    }
    ~OwnedQueue() { ::mq_close(mq_); ::mq_unlink(name_.c_str()); }
    OwnedQueue(const OwnedQueue&) = delete;
    mqd_t get() const { return mq_; }
private:
    std::string name_;
    mqd_t mq_;
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

struct Job {
    const char* text;
    unsigned priority;                   // 0 = lowest; Linux allows up to 32767
};

// Sent in this order on purpose: priorities mixed, two jobs share priority 5.
const Job jobs[] = {
    {"write the weekly report", 0}, {"answer email A", 5}, {"SERVER IS DOWN", 9},
    {"answer email B", 5},          {"water the plants", 0}, {"fix login bug", 7},
};

int sender(mqd_t mq) {
    for (const Job& j : jobs)
        check(::mq_send(mq, j.text, std::strlen(j.text), j.priority), "mq_send");
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: priority_queue_example\n"); return 2; }
    try {
        constexpr long msg_size = 64;
        OwnedQueue queue("/priority_queue_example-" + std::to_string(::getpid()), 8, msg_size);

        // All jobs are queued before anyone receives, so the order we see is
        // decided by the priorities alone.
        Child child([&] { return sender(queue.get()); });
        // Only a sender that finished has queued all six: else mq_receive() would
        // wait for a message that never comes.
        if (child.wait() != 0) throw std::runtime_error("the sender failed");

        std::vector<std::string> got;
        char buf[msg_size];
        for (size_t i = 0; i < std::size(jobs); ++i) {
            unsigned prio = 0;
            ssize_t n = ::mq_receive(queue.get(), buf, sizeof buf, &prio);
            check(static_cast<int>(n), "mq_receive");
            got.emplace_back(buf, static_cast<size_t>(n));
            std::printf("received priority %u: %s\n", prio, got.back().c_str());
        }
        const std::vector<std::string> expected = {"SERVER IS DOWN", "fix login bug",
            "answer email A", "answer email B", "write the weekly report", "water the plants"};
        const bool ok = got == expected;
        std::printf("%s\n", ok ? "highest priority first, FIFO within one priority" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "priority_queue_example: %s\n", e.what());
        return 1;
    }
}
