// shared_array.cpp — a typed array in shared memory, one slot per worker.
// Python: a = Array('d', 4); each worker sets a[i]; the parent sums a[:].
// The array is plain doubles in a MAP_SHARED mapping made before fork().
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <deque>
#include <span>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

/// Python's Array('d', n): n doubles that every process forked later shares.
struct SharedArray {
    explicit SharedArray(size_t n) : bytes(n * sizeof(double)) {
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        items = {static_cast<double*>(p), n};   // anonymous pages start as zeros
    }
    SharedArray(const SharedArray&) = delete;
    ~SharedArray() { ::munmap(items.data(), bytes); }
    size_t bytes;
    std::span<double> items;
};

constexpr int workers = 4;

// Worker w sums 1..1000 into its own slot: no other process writes that
// slot, so no lock is needed while they work.
void partial_sum(std::span<double> slots, int w) {
    for (int i = 1; i <= 1000; ++i) slots[w] += i;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: shared_array\n"); return 2; }
    try {
        SharedArray array(workers);
        std::deque<Child> children;      // a deque never moves its elements
        for (int w = 0; w < workers; ++w) {
            std::fflush(stdout);         // else a child prints our buffer again
            children.emplace_back(check(::fork(), "fork"));
            if (children.back().pid == 0) {  // a child ends here, whatever happens
                partial_sum(array.items, w);
                _exit(0);
            }
        }
        bool ok = true;
        for (Child& c : children) {      // after every waitpid, all writes are done
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;                  // reaped
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        // Reading several slots WHILE workers write would need a lock around
        // the whole read, like "with a.get_lock():" in Python.
        double total = 0;
        for (double x : array.items) total += x;
        std::printf("slots: %.0f %.0f %.0f %.0f, written by %d processes\n", array.items[0],
                    array.items[1], array.items[2], array.items[3], workers);
        std::printf("sum = %.0f (expected %d)\n", total, workers * 500'500);
        ok = ok && total == workers * 500'500.0;
        std::printf("%s\n", ok ? "every child's writes reached the parent's mapping" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shared_array: %s\n", e.what());
        return 1;
    }
}
