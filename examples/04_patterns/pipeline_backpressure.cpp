// pipeline_backpressure.cpp - a fast stage in front of a slow one, joined by a
// pipe: write() blocks while the pipe is full, so the fast stage can never get
// more than the pipe's capacity ahead. Python: put() on a Queue(maxsize=16).
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <new>
#include <system_error>
#include <thread>
#include <utility>

constexpr int kItems = 200;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Counters both stages see (MAP_SHARED): how far the source ever got ahead.
// In memory two processes share, an atomic must be lock-free: a library lock is per process.
static_assert(std::atomic<long>::is_always_lock_free);
struct Progress { std::atomic<long> written{0}, consumed{0}, max_ahead{0}; };

struct Owners {  // the mapping, the pipe's two ends and the child, released in reverse
    void* map = MAP_FAILED;
    int fds[2] = {-1, -1};
    pid_t child = -1;
    ~Owners() {
        if (child > 0 && ::kill(child, SIGKILL) == 0) ::waitpid(child, nullptr, 0);
        for (int fd : fds) if (fd != -1) ::close(fd);
        if (map != MAP_FAILED) ::munmap(map, sizeof(Progress));
    }
};

// The fast stage: no work at all, just write(); it blocks while the pipe is full.
void source(int out, Progress& p) {
    for (long i = 0; i < kItems; ++i) {
        check(static_cast<int>(::write(out, &i, sizeof i)), "write");
        const long ahead = ++p.written - p.consumed;
        if (ahead > p.max_ahead) p.max_ahead = ahead;
    }
}

int main(int argc, char* argv[]) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        Owners own;
        own.map = ::mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (own.map == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        auto& progress = *new (own.map) Progress;
        check(::pipe2(own.fds, O_CLOEXEC | O_DIRECT), "pipe2");  // 16 packets
        const long capacity = check(::fcntl(own.fds[1], F_GETPIPE_SZ), "fcntl") / ::getpagesize();
        std::cout << "source -> slow sink, " << kItems << " items; the pipe holds " << capacity
                  << " packets\n";
        std::cout.flush();  // else the child prints our buffered text again
        own.child = check(::fork(), "fork");
        if (own.child == 0) {  // the source ends here, whatever happens
            int code = 1;
            try { ::close(own.fds[0]); source(own.fds[1], progress); code = 0; } catch (...) {}
            _exit(code);
        }
        ::close(std::exchange(own.fds[1], -1));  // ours closed: end-of-file when the source ends
        long item, received = 0;  // the sink: 1 ms an item
        while (check(static_cast<int>(::read(own.fds[0], &item, sizeof item)), "read") > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            received += item == received, ++progress.consumed;
        }
        int status = 0;
        check(::waitpid(std::exchange(own.child, -1), &status, 0), "waitpid");
        const long ahead = progress.max_ahead, bound = capacity + 1;  // + the one being read
        std::cout << "received " << received << " of " << kItems << " in order\n"
                  << "the source was at most " << ahead << " items ahead of the sink (bound "
                  << bound << "): " << (ahead <= bound ? "yes" : "no") << '\n';
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 && received == kItems && ahead <= bound
                   ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pipeline_backpressure: " << e.what() << '\n';
        return 1;
    }
}
