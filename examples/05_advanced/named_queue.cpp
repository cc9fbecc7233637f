// named_queue.cpp — a message queue with a name: mq_open, mq_send, mq_timedreceive.
//
// Python: the tutorial's ProcessCommunicator finds its Queues by name. A POSIX message queue
// has a name ("/ch05-<pid>-messages") that unrelated processes could open too; it outlives
// every process until someone unlinks it: here the creator, in a destructor.
#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <system_error>

#include "start_child.hpp"

namespace {

/// Owns a queue. A forked child inherits the descriptor, ends with _exit and never runs
/// this destructor; the check on the PID says plainly that only the creator unlinks.
class Queue {
public:
    explicit Queue(const std::string& name) : path_("/ch05-" + std::to_string(owner_) + "-" + name) {
        mq_attr attr{};
        attr.mq_maxmsg = 8;      // the default limit for unprivileged users is 10
        attr.mq_msgsize = 128;
        mqd_ = ::mq_open(path_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
        if (mqd_ == static_cast<mqd_t>(-1)) check(-1, "mq_open");
    }
    ~Queue() { ::mq_close(mqd_); if (::getpid() == owner_) ::mq_unlink(path_.c_str()); }
    Queue(const Queue&) = delete;
    void send(const std::string& text) { check(::mq_send(mqd_, text.data(), text.size(), 0), "mq_send"); }
    /// The next message, or "" after `timeout_s`: a reader never waits for ever.
    std::string receive(int timeout_s) {
        timespec until{};
        ::clock_gettime(CLOCK_REALTIME, &until);   // mq_timedreceive wants an absolute time
        until.tv_sec += timeout_s;
        char buf[128];   // at least mq_msgsize, or mq_timedreceive fails with EMSGSIZE
        ssize_t n;
        while ((n = ::mq_timedreceive(mqd_, buf, sizeof buf, nullptr, &until)) == -1 && errno == EINTR) {}
        if (n == -1 && errno == ETIMEDOUT) return "";
        return std::string(buf, static_cast<size_t>(check(static_cast<int>(n), "mq_timedreceive")));
    }
    const std::string& path() const { return path_; }
private:
    pid_t owner_ = ::getpid();
    std::string path_;
    mqd_t mqd_;
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: named_queue (takes no arguments)\n");
        return 2;
    }
    std::string path;
    bool ok = true;
    try {
        Queue queue("messages");   // before fork(): both children inherit it
        path = queue.path();
        std::printf("queue %s created\n", path.c_str());
        Child producer(start([&] {
            for (int i = 0; i < 5; ++i) queue.send("message " + std::to_string(i));
            return 0;
        }));
        Child consumer(start([&] {
            bool in_order = true;
            for (int i = 0; i < 5; ++i) {
                std::string m = queue.receive(2);
                std::printf("  consumer: '%s'\n", m.empty() ? "(timed out)" : m.c_str());
                in_order = in_order && m == "message " + std::to_string(i);
            }
            return in_order ? 0 : 1;
        }));
        for (Child* c : {&producer, &consumer}) ok = exited_ok(*c) && ok;   // both end by themselves: the receive times out
        std::printf("five messages in order, both children exited with 0: %s\n", ok ? "yes" : "NO");
    } catch (const std::exception& e) {   // the owners have reaped the children and unlinked the name
        std::fflush(stdout);
        std::fprintf(stderr, "named_queue: %s\n", e.what());
        return 1;
    }
    mqd_t again = ::mq_open(path.c_str(), O_RDONLY);   // the Queue is destroyed: is the name gone?
    bool unlinked = again == static_cast<mqd_t>(-1) && errno == ENOENT;
    if (again == static_cast<mqd_t>(-1) && errno != ENOENT) {   // could not even look
        std::fprintf(stderr, "named_queue: mq_open: %s\n", std::strerror(errno));
        return 1;
    }
    if (again != static_cast<mqd_t>(-1)) { ::mq_close(again); ::mq_unlink(path.c_str()); }
    std::printf("after the owner is destroyed, mq_open(name) fails with ENOENT: %s\n", unlinked ? "yes" : "NO");
    return ok && unlinked ? 0 : 1;
}
