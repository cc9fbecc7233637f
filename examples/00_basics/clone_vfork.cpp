// clone_vfork.cpp - for the curious: fork(), vfork() and threads are all one
// Linux system call, clone(), with different "what to share" flags.
//
//   fork()          clone(SIGCHLD)                        copy of memory
//   vfork()         clone(CLONE_VM | CLONE_VFORK | SIGCHLD) shared memory, parent paused
//   std::thread     clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
//                         CLONE_THREAD | ...)               shared everything, same PID
//
// The clone() children below only touch one integer: a child that shares
// our memory but is not a proper thread must not call into the C library
// (stdio, malloc, errno all assume they know which thread is running).
#include <sched.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <memory>
#include <system_error>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

int g_value = 0;

extern "C" int set_value(void*) {
    g_value = 99;
    return 0;
}

int reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) check(-1, "waitpid");
    }
    return status;
}

// clone() runs `set_value` on a stack we provide (the stack grows down, so
// we pass its top end). SIGCHLD: tell us when it exits, like a forked child.
// Returns the value of g_value seen by the parent right after clone() returned
// and, via `after_wait`, after the child was reaped.
int run_clone(int flags, int& after_wait) {
    constexpr std::size_t kStackSize = 64 * 1024;
    auto stack = std::make_unique<char[]>(kStackSize);
    g_value = 0;
    std::cout.flush();  // without CLONE_VM the child gets a copy of our buffers
    const pid_t pid = check(
        ::clone(set_value, stack.get() + kStackSize, flags | SIGCHLD, nullptr), "clone");
    const int right_after = g_value;  // with CLONE_VFORK: the child is already done
    const int status = reap(pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("clone child failed");
    after_wait = g_value;
    return right_after;
}

bool compare_clone_flags() {
    int a_wait = 0, b_wait = 0, c_wait = 0;
    run_clone(0, a_wait);
    std::cout << "clone(SIGCHLD)             (= fork) : child wrote 99, parent reads "
              << a_wait << " (a private copy)\n";
    run_clone(CLONE_VM, b_wait);
    std::cout << "clone(CLONE_VM)                     : child wrote 99, parent reads "
              << b_wait << " (shared memory)\n";
    const int c_now = run_clone(CLONE_VM | CLONE_VFORK, c_wait);
    std::cout << "clone(CLONE_VM|CLONE_VFORK) (= vfork): parent reads " << c_now
              << " the moment clone returns (it was paused until the child exited)\n";
    return a_wait == 0 && b_wait == 99 && c_now == 99 && c_wait == 99;
}

// vfork() proper: the only things a vfork child may do are exec*() or _exit().
// It borrows our memory and stack until then, which is why it is fast.
bool vfork_then_exec() {
    std::cout.flush();
    const pid_t pid = check(::vfork(), "vfork");
    if (pid == 0) {
        ::execlp("true", "true", static_cast<char*>(nullptr));
        _exit(127);  // exec failed; never return, never call exit()
    }
    const int status = reap(pid);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    std::cout << "vfork() + exec(\"true\"): child exit status " << WEXITSTATUS(status)
              << '\n';
    return ok;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool a = compare_clone_flags();
        const bool b = vfork_then_exec();
        std::cout << (a ? "ok" : "FAILED")
                  << ": the clone flags decide what parent and child share\n"
                  << (b ? "ok" : "FAILED")
                  << ": vfork followed at once by exec ran a program\n";
        return (a && b) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
