// posix_mq.cpp - a POSIX message queue: a named kernel object that keeps message
// boundaries. A producer that knows only the name sends jobs; the consumer waits for
// each with a deadline, so a dead producer cannot hang it. Python: q.get(timeout=5).
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// The creator owns the queue's NAME: its destructor unlinks it, so nothing is
// left in the mqueue file system, however we leave.
struct OwnedQueue {
    OwnedQueue(const std::string& n, long capacity, long msg_size) : name(n) {
        mq_attr attr{}; attr.mq_maxmsg = capacity; attr.mq_msgsize = msg_size;
        mq = ::mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);  // O_EXCL: never a stale one
        check(mq == (mqd_t)-1 ? -1 : 0, "mq_open");
    }
    OwnedQueue(const OwnedQueue&) = delete;
    ~OwnedQueue() { ::mq_close(mq); ::mq_unlink(name.c_str()); }
    std::string name; mqd_t mq;
};

// Owns a child: if we leave early, it is killed and reaped.
struct Child { ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); } pid_t pid = -1; };

// The producer opens the queue by name, as an unrelated program would.
int producer(const char* name) {
    mqd_t mq = ::mq_open(name, O_WRONLY);
    check(mq == (mqd_t)-1 ? -1 : 0, "mq_open");
    for (const char* job : {"resize img1.png", "resize img2.png", "resize img3.png", "STOP"})
        check(::mq_send(mq, job, std::strlen(job), 0), "mq_send");  // blocks while full
    ::mq_close(mq);
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        constexpr long msg_size = 128;
        OwnedQueue queue("/posix_mq-" + std::to_string(::getpid()), 4, msg_size);
        Child child{check(::fork(), "fork")};
        if (child.pid == 0) {            // the child ends here, whatever happens
            int code = 1;
            try { code = producer(queue.name.c_str()); } catch (const std::exception& e) {
                std::fprintf(stderr, "posix_mq (child): %s\n", e.what());
            } catch (...) {}
            _exit(code);
        }
        char buf[msg_size];              // must be >= mq_msgsize, or EMSGSIZE
        int jobs = 0;
        for (;;) {
            // mq_receive() would wait for ever if the producer died before "STOP";
            // mq_timedreceive() fails with ETIMEDOUT at a CLOCK_REALTIME deadline.
            timespec deadline{};
            check(::clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
            deadline.tv_sec += 5;
            ssize_t n = ::mq_timedreceive(queue.mq, buf, sizeof buf, nullptr, &deadline);
            std::string msg(buf, static_cast<size_t>(check(static_cast<int>(n), "mq_timedreceive")));
            if (msg == "STOP") break;
            std::printf("consumer got one whole message: \"%s\"\n", msg.c_str());
            ++jobs;
        }
        int status = 0;                  // the producer sent STOP: it is ending by itself
        check(::waitpid(child.pid, &status, 0), "waitpid"); child.pid = -1;  // reaped
        const bool ok = jobs == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s\n", ok ? "three jobs, each one mq_send() = one mq_receive()" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "posix_mq: %s\n", e.what());
        return 1;
    }
}
