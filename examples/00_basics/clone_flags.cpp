// clone_flags.cpp - for the curious: fork(), vfork() and threads are one
// Linux system call, clone(), with different "what to share" flags:
//   fork()       clone(SIGCHLD)                          memory copied
//   vfork()      clone(CLONE_VM | CLONE_VFORK | SIGCHLD) memory shared, parent paused
//   std::thread  clone(CLONE_VM | CLONE_THREAD | ...)    everything shared, same PID
// The children below only store one integer: a child that shares our memory
// but is no proper thread must not call into the C library (stdio, malloc
// and errno all assume they know which thread is running).
#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <iostream>
#include <memory>
#include <stdexcept>
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

// With CLONE_VM the parent reads this while the child may be writing it, exactly as
// two threads would: a plain int would be a data race (undefined behaviour).
std::atomic<int> g_value{0};

extern "C" int set_value(void*) {
    g_value.store(99);
    return 0;  // the child's exit status
}

// Runs set_value in a clone()d child; returns g_value as the parent sees it
// right after clone() returns (`now`) and after the child has exited.
int after_child(int flags, int& now) {
    constexpr std::size_t kStackSize = 64 * 1024;
    auto stack = std::make_unique<char[]>(kStackSize);  // freed after the child is reaped
    g_value.store(0);
    std::cout.flush();  // without CLONE_VM the child gets a copy of our buffer
    // The stack grows down: pass its top. SIGCHLD: tell us when it exits, as fork does.
    Child child(check(
        ::clone(set_value, stack.get() + kStackSize, flags | SIGCHLD, nullptr), "clone"));
    now = g_value.load();  // with CLONE_VFORK the child has already run
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");
    child.pid = -1;  // reaped
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the child failed");
    return g_value.load();
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int now = 0;
        const int copied = after_child(0, now);
        std::cout << "clone(SIGCHLD)              = fork : parent reads " << copied
                  << (copied == 0 ? " ✓ the child wrote its own copy" : " ✗") << '\n';
        const int shared = after_child(CLONE_VM, now);
        std::cout << "clone(CLONE_VM)                    : parent reads " << shared
                  << (shared == 99 ? " ✓ the memory is shared" : " ✗") << '\n';
        after_child(CLONE_VM | CLONE_VFORK, now);
        std::cout << "clone(CLONE_VM | CLONE_VFORK) = vfork: parent reads " << now
                  << " as clone returns" << (now == 99 ? " ✓ it was paused" : " ✗")
                  << '\n';
        return (copied == 0 && shared == 99 && now == 99) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "clone_flags: " << e.what() << '\n';
        return 1;
    }
}
