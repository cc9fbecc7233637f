// posix_mq.cpp — a POSIX message queue: a kernel object with a name,
// message boundaries, a capacity, and blocking put/get.
// Python: multiprocessing.Queue(maxsize=8) -- q.put(), q.get(), queue.Full.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <fcntl.h>
#include <mqueue.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "posix_mq";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// The creator of a queue owns its name: the destructor closes the descriptor
/// and unlinks the name, so nothing is left in the mqueue file system.
class OwnedQueue {
public:
    OwnedQueue(std::string name, long max_messages, long message_size) : name_(std::move(name)) {
        mq_attr attr{};
        attr.mq_maxmsg = max_messages;
        attr.mq_msgsize = message_size;
        // O_EXCL: fail rather than silently reuse a stale queue of the same name.
        mq_ = ::mq_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        check(mq_ == (mqd_t)-1 ? -1 : 0, "mq_open(create)");
    }
    ~OwnedQueue() { ::mq_close(mq_); ::mq_unlink(name_.c_str()); }
    OwnedQueue(const OwnedQueue&) = delete;
    mqd_t get() const { return mq_; }
    const std::string& name() const { return name_; }
private:
    std::string name_;
    mqd_t mq_;
};

class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);
        pid_ = check(::fork(), "fork");
        // _exit: the child must not run the parent's destructors (which
        // would unlink the queue the parent still uses).
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

long read_limit(const char* file) {
    std::ifstream in(std::string("/proc/sys/fs/mqueue/") + file);
    long v = -1;
    in >> v;
    return v;
}

// mq_timedreceive() takes an absolute CLOCK_REALTIME deadline.
timespec deadline_in(int seconds) {
    timespec t{};
    check(::clock_gettime(CLOCK_REALTIME, &t), "clock_gettime");
    t.tv_sec += seconds;
    return t;
}

// The producer opens the queue by name, as an unrelated program would.
int producer(const std::string& name) {
    mqd_t mq = ::mq_open(name.c_str(), O_WRONLY);
    check(mq == (mqd_t)-1 ? -1 : 0, "mq_open(producer)");
    for (const char* job : {"resize img1.png", "resize img2.png", "resize img3.png", "STOP"})
        check(::mq_send(mq, job, std::strlen(job), 0), "mq_send");  // blocks while full
    ::mq_close(mq);
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: posix_mq\n"); return 2; }
    try {
        std::printf("system limits: msg_max=%ld msgsize_max=%ld queues_max=%ld\n",
                    read_limit("msg_max"), read_limit("msgsize_max"), read_limit("queues_max"));

        constexpr long capacity = 4, msg_size = 128;
        OwnedQueue queue("/posix_mq-" + std::to_string(::getpid()), capacity, msg_size);
        bool ok = true;

        // 1. Producer and consumer in different processes; message boundaries kept.
        {
            Child child([&] { return producer(queue.name()); });
            char buf[msg_size];              // must be >= mq_msgsize, or EMSGSIZE
            int jobs = 0;
            for (;;) {
                // mq_receive() would wait for ever if the producer died before
                // "STOP"; mq_timedreceive() gives up at a deadline (ETIMEDOUT).
                const timespec deadline = deadline_in(5);
                ssize_t n = ::mq_timedreceive(queue.get(), buf, sizeof buf, nullptr, &deadline);
                check(static_cast<int>(n), "mq_timedreceive");
                std::string msg(buf, static_cast<size_t>(n));
                if (msg == "STOP") break;
                std::printf("consumer got one whole message: \"%s\"\n", msg.c_str());
                ++jobs;
            }
            ok = child.wait() == 0 && jobs == 3;
        }

        // 2. The queue has a capacity. Non-blocking send reports "full" with EAGAIN.
        mq_attr nonblocking{};
        nonblocking.mq_flags = O_NONBLOCK;
        check(::mq_setattr(queue.get(), &nonblocking, nullptr), "mq_setattr");
        int sent = 0;
        while (::mq_send(queue.get(), "x", 1, 0) == 0) ++sent;
        int err = errno;
        mq_attr now{};
        check(::mq_getattr(queue.get(), &now), "mq_getattr");
        std::printf("queue full after %d messages (mq_curmsgs=%ld): mq_send -> %s\n", sent,
                    now.mq_curmsgs, err == EAGAIN ? "EAGAIN" : std::strerror(err));
        ok = ok && sent == capacity && err == EAGAIN;

        std::printf("%s\n", ok ? "the owner unlinks the name when it goes out of scope" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "posix_mq: %s\n", e.what());
        return 1;
    }
}
