// fork_copies.cpp - fork() makes a new process: a new PID, and a copy of our
// memory. The copy is made page by page on the first write (copy-on-write),
// so what the child writes never reaches the parent.
#include <signal.h>
#include <sys/types.h>
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

int g_value = 1;

// The child's work. Its claim, "I am a new process of main's", is its exit status.
int child_body(pid_t main_pid) {
    g_value = 2;  // the first write copies the page: only the child's copy changes
    const bool mine = getpid() != main_pid && getppid() == main_pid;
    std::cout << "child : pid=" << getpid() << " ppid=" << getppid()
              << ", set g_value = 2; a new pid, its parent is main " << (mine ? "✓" : "✗")
              << '\n';
    return mine ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const pid_t main_pid = getpid();
        std::cout << "main  : pid=" << main_pid << ", g_value = " << g_value << '\n';
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));  // returns twice: 0 in the child
        if (child.pid == 0) {  // the child: whatever happens, it ends here
            int code = 1;
            try { code = child_body(main_pid); } catch (...) {}
            std::cout.flush();
            _exit(code);  // not exit(): the parent's atexit handlers must not run twice
        }
        int status = 0;  // the parent: child.pid is the child's PID
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;  // reaped
        const bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "main  : after the child exited, g_value = " << g_value
                  << (g_value == 1 ? " ✓ the child changed only its copy" : " ✗") << '\n';
        return (child_ok && g_value == 1) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "fork_copies: " << e.what() << '\n';
        return 1;
    }
}
