// value_atomic.cpp — a shared counter that needs no lock: a lock-free
// std::atomic<long> in a MAP_SHARED mapping, updated with fetch_add() by four
// processes. Python has no equivalent: a Value always pairs a number with a lock
// (array_value_ctypes.cpp shows that lock).
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <deque>
#include <new>
#include <system_error>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// An atomic that is not lock-free hides a lock in this process's memory, which
// other processes cannot see. Only a lock-free one works across processes.
static_assert(std::atomic<long>::is_always_lock_free);

/// One counter in an anonymous MAP_SHARED mapping created before fork(), so
/// every child updates the same memory. The destructor unmaps it.
class SharedCounter {
public:
    SharedCounter() {
        void* p = ::mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        c_ = new (p) std::atomic<long>(0);
    }
    ~SharedCounter() { ::munmap(c_, sizeof(std::atomic<long>)); }
    SharedCounter(const SharedCounter&) = delete;
    std::atomic<long>& operator*() const { return *c_; }
private:
    std::atomic<long>* c_;
};

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

constexpr int workers = 4;
constexpr long increments = 200'000;

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: value_atomic\n"); return 2; }
    try {
        SharedCounter counter;
        std::deque<Child> children;  // a deque never moves its elements
        for (int id = 0; id < workers; ++id) {
            std::fflush(stdout);
            Child& c = children.emplace_back(check(::fork(), "fork"));
            if (c.pid == 0) {  // the child makes no call that can fail: it only adds
                // One atomic read-modify-write: no other process can come between
                // the read and the write, so no update is lost, and no lock is taken.
                for (long i = 0; i < increments; ++i) (*counter).fetch_add(1);
                _exit(0);
            }
        }
        bool ok = true;
        for (Child& c : children) {  // each ends by itself after its increments
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        const long expected = workers * increments, total = (*counter).load();
        std::printf("atomic fetch_add by %d processes: %ld of %ld\n", workers, total, expected);
        ok = ok && total == expected;
        std::printf("%s\n", ok ? "exact, and no process ever waited for a lock" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "value_atomic: %s\n", e.what());
        return 1;
    }
}
