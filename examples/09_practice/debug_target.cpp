// debug_target.cpp - the program the debugging page takes apart with strace and
// gdb. Its worker has a real bug: it stores its result into a shared mapping that
// the parent mapped read-only (PROT_READ, no PROT_WRITE), so the worker dies of
// SIGSEGV. The parent survives, reaps it and reports how it ended.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
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

// Owns a shared anonymous mapping.
struct Mapping {
    Mapping(std::size_t n, int prot) : size(n) {
        ptr = ::mmap(nullptr, n, prot, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (ptr == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    }
    Mapping(const Mapping&) = delete;
    ~Mapping() { ::munmap(ptr, size); }
    std::size_t size;
    void* ptr;
};

// The bug: the page is read-only, so this store faults (SEGV_ACCERR).
[[gnu::noinline]] void store_result(volatile long* slot, long value) { *slot = value; }

[[noreturn]] void worker(long* slot) {
#if defined(__SANITIZE_ADDRESS__)
    ::signal(SIGSEGV, SIG_DFL);  // ASan catches SIGSEGV itself; we want the kernel's default
#endif
    store_result(slot, 6 * 7);
    _exit(0);  // never reached
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Mapping shared(sizeof(long), PROT_READ);  // BUG: should be PROT_READ | PROT_WRITE
        std::cout << "parent " << ::getpid() << ": starting a worker\n";
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) worker(static_cast<long*>(shared.ptr));

        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // the worker ends by itself
        child.pid = -1;
        const bool segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
        std::cout << "parent: the worker was "
                  << (segv ? "killed by SIGSEGV" : "not killed by SIGSEGV")
                  << " (core dumped: " << (WCOREDUMP(status) ? "yes" : "no") << ")\n"
                  << "parent: still running, result slot = "
                  << *static_cast<long*>(shared.ptr) << " (never written)\n";
        return segv ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "debug_target: " << e.what() << '\n';
        return 1;
    }
}
