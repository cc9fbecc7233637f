// producer_consumer.cpp - stopping consumers with poison pills: after the last
// real item, one pill per consumer travels through the queue, behind the items.
// The queue is a pipe in packet mode (O_DIRECT): bounded, and each read() returns
// one write(). Python: Queue(), put(item), then put(None) once per consumer.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

constexpr int kProducers = 3, kConsumers = 2, kPerProducer = 1000;
constexpr long kPill = -1;  // never a real item: items are 0..2999

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(std::exchange(fd, -1)); }
};

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        pid = check(::fork(), "fork");
        if (pid != 0) return;
        int code = 1;  // the child ends here, whatever happens
        try { body(); code = 0; } catch (const std::exception& e) { std::cerr << e.what() << '\n'; }
        catch (...) {}
        _exit(code);
    }
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

void put(int fd, long item) {  // one packet; blocks while the pipe is full
    if (check(static_cast<int>(::write(fd, &item, sizeof item)), "write") != sizeof item)
        throw std::runtime_error("short write");
}
long get(int fd) {
    long item;
    if (check(static_cast<int>(::read(fd, &item, sizeof item)), "read") != sizeof item)
        throw std::runtime_error("end-of-file: the other side is gone");
    return item;
}

// Takes items until a pill arrives (one pill stops one consumer), then reports.
void consume(int queue, int reports) {
    long taken = 0;
    while (get(queue) != kPill) ++taken;
    put(reports, taken);
}

int main(int argc, char* argv[]) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a queue nobody reads fails (EPIPE)
        int q[2], r[2];
        check(::pipe2(q, O_CLOEXEC | O_DIRECT), "pipe2");
        Fd q_out{q[0]}, q_in{q[1]};
        check(::pipe2(r, O_CLOEXEC | O_DIRECT), "pipe2");
        Fd r_out{r[0]}, r_in{r[1]};
        std::cout << kProducers << " producers x " << kPerProducer << " items, " << kConsumers
                  << " consumers, one queue\n";
        std::vector<Child> children;
        for (int c = 0; c < kConsumers; ++c)
            children.emplace_back([&] { q_in.close(), r_out.close(), consume(q_out.fd, r_in.fd); });
        q_out.close(), r_in.close();  // ours are closed: a dead consumer means EPIPE or EOF
        for (int p = 0; p < kProducers; ++p)
            children.emplace_back([&, p] {
                for (int i = 0; i < kPerProducer; ++i) put(q_in.fd, long{p} * kPerProducer + i);
            });
        bool ok = true;
        for (int p = kConsumers; p < kConsumers + kProducers; ++p) ok = children[p].wait() && ok;
        // Only now: every real item is in the queue, and FIFO puts the pills last.
        std::cout << "producers joined; parent sends " << kConsumers << " poison pills\n";
        for (int c = 0; c < kConsumers; ++c) put(q_in.fd, kPill);
        long total = 0;
        for (int c = 0; c < kConsumers; ++c) {
            const long taken = get(r_out.fd);  // end-of-file here: a consumer died
            std::cout << "a consumer took a pill after " << taken << " items\n";
            total += taken;
        }
        for (int c = 0; c < kConsumers; ++c) ok = children[c].wait() && ok;
        std::cout << "items consumed: " << total << " (expected " << kProducers * kPerProducer
                  << "); every child exited with 0: " << (ok ? "yes" : "no") << '\n';
        return ok && total == kProducers * kPerProducer ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "producer_consumer: " << e.what() << '\n';
        return 1;
    }
}
