// producer_consumer.cpp - poison pills: after the last real item, one pill per
// consumer travels through the queue, behind the items. The queue is a pipe in
// packet mode (O_DIRECT), bounded. Python: put(None) once per consumer.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>

constexpr int kProducers = 3, kConsumers = 2, kPerProducer = 1000;
constexpr long kPill = -1;  // never a real item: items are 0..2999

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Pipe {  // owns both ends: end[0] is read from, end[1] written to
    int end[2] = {-1, -1};
    Pipe() { check(::pipe2(end, O_CLOEXEC | O_DIRECT), "pipe2"); }  // packet mode
    ~Pipe() { close(0), close(1); }
    void close(int i) { if (end[i] != -1) ::close(std::exchange(end[i], -1)); }
};

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        if ((pid = check(::fork(), "fork")) != 0) return;
        try { body(); } catch (...) { _exit(1); }  // the child ends here, whatever happens
        _exit(0);
    }
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

// 8 bytes <= PIPE_BUF: a write() is one whole packet or an error, never half.
void put(int fd, long item) { check(static_cast<int>(::write(fd, &item, sizeof item)), "write"); }
long get(int fd) {  // blocks while the queue is empty
    long item = 0;
    if (check(static_cast<int>(::read(fd, &item, sizeof item)), "read") == 0)
        throw std::runtime_error("end-of-file: the other side is gone");
    return item;
}

int main(int argc, char* argv[]) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a queue nobody reads fails (EPIPE)
        Pipe queue, reports;  // each consumer reports on `reports` how many it took
        std::cout << kProducers << " producers x " << kPerProducer << " items, " << kConsumers
                  << " consumers, one queue\n";
        std::deque<Child> children;  // a deque never moves them
        for (int c = 0; c < kConsumers; ++c)
            children.emplace_back([&] {
                queue.close(1), reports.close(0);
                long taken = 0;
                while (get(queue.end[0]) != kPill) ++taken;  // one pill stops one consumer
                std::cout << "a consumer took a pill after " << taken << " items" << std::endl;
                put(reports.end[1], taken);
            });
        queue.close(0), reports.close(1);  // ours closed: a dead consumer means EPIPE or EOF
        for (int p = 0; p < kProducers; ++p)
            children.emplace_back([&, p] {
                for (int i = 0; i < kPerProducer; ++i) put(queue.end[1], p * kPerProducer + i);
            });
        bool ok = true;
        for (int p = kConsumers; p < kConsumers + kProducers; ++p) ok = children[p].wait() && ok;
        // Only now: every real item is in the queue, and FIFO puts the pills last.
        std::cout << "producers joined; sending " << kConsumers << " poison pills" << std::endl;
        for (int c = 0; c < kConsumers; ++c) put(queue.end[1], kPill);
        long total = 0;  // get() throws at end-of-file: a consumer died without reporting
        for (int c = 0; c < kConsumers; ++c) total += get(reports.end[0]);
        for (int c = 0; c < kConsumers; ++c) ok = children[c].wait() && ok;
        std::cout << "items consumed: " << total << " (expected " << kProducers * kPerProducer
                  << "); every child exited with 0: " << (ok ? "yes" : "no") << '\n';
        return ok && total == kProducers * kPerProducer ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "producer_consumer: " << e.what() << '\n';
        return 1;
    }
}
