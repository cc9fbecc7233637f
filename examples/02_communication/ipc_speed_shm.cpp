// ipc_speed_shm.cpp — how fast shared memory moves messages of three sizes from
// one process to another when they are handed over through a ring of slots:
// two process-shared semaphores count the full and the free slots (shared
// checks: ipc_speed.hpp). A first impression, printed, never judged.
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ipc_speed.hpp"

namespace {

/// The ring lives in an anonymous MAP_SHARED mapping made before fork(), so
/// both processes see the same pages. Each side keeps its own slot index.
class Ring {
public:
    explicit Ring(size_t slot_size) : slot_size_(slot_size), bytes_(sizeof(Header) + slots * slot_size) {
        void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        h_ = static_cast<Header*>(p);
        check(::sem_init(&h_->items, 1, 0), "sem_init");  // 1: shared between processes
        check(::sem_init(&h_->spaces, 1, slots), "sem_init");
    }
    ~Ring() { ::sem_destroy(&h_->items); ::sem_destroy(&h_->spaces); ::munmap(h_, bytes_); }
    Ring(const Ring&) = delete;
    void send(const char* p, size_t n) {
        wait(&h_->spaces);  // a free slot
        std::memcpy(slot(next_++), p, n);
        check(::sem_post(&h_->items), "sem_post");  // one more full slot
    }
    size_t receive(char* p, size_t n) {
        wait(&h_->items);
        std::memcpy(p, slot(next_++), n);  // copied out, as the other mechanisms do
        check(::sem_post(&h_->spaces), "sem_post");
        return n;
    }
private:
    static constexpr unsigned slots = 32;
    struct Header { sem_t items, spaces; };
    // A semaphore gives no end-of-file: only a time-out tells us that the other
    // process died. sem_timedwait wants a CLOCK_REALTIME deadline.
    static void wait(sem_t* s) {
        timespec deadline{};
        check(::clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
        deadline.tv_sec += 5;
        while (::sem_timedwait(s, &deadline) == -1) {
            if (errno == ETIMEDOUT) throw std::runtime_error("no slot within 5 s: the other process is gone");
            if (errno != EINTR) check(-1, "sem_timedwait");
        }
    }
    char* slot(size_t i) { return reinterpret_cast<char*>(h_ + 1) + (i % slots) * slot_size_; }
    size_t slot_size_, bytes_, next_ = 0;
    Header* h_;
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
    Ring ring(size);
    auto t0 = std::chrono::steady_clock::now();
    std::fflush(stdout);
    Child producer(check(::fork(), "fork"));
    if (producer.pid == 0) {  // the child ends here, whatever happens: never in main's code
        _exit(produce("ipc_speed_shm", ring, size, count));
    }
    double mbs = consume(ring, size, count, t0);
    int status = 0;  // the producer has sent everything: this wait is short
    check(::waitpid(producer.pid, &status, 0), "waitpid");
    producer.pid = -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? mbs : -1;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: ipc_speed_shm\n"); return 2; }
    try {
        bool ok = true;
        std::printf("throughput in MB/s (higher is better), one producer -> one consumer\n");
        std::printf("%-8s %10s\n", "message", "shared mem");
        for (const Row& r : kRows) {
            double mbs = throughput(r.size, r.count);
            ok = ok && mbs > 0;
            std::printf("%-8s %10.0f\n", r.label, mbs);
        }
        return verdict(ok);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipc_speed_shm: %s\n", e.what());
        return 1;
    }
}
