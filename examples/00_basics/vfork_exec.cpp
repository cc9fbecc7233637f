// vfork_exec.cpp - vfork() copies nothing, not even page tables: the child
// borrows the parent's memory and stack, and the parent is paused until the
// child calls exec*() or _exit(). Those are the only two things it may do.
// posix_spawn() uses this for you, safely.
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

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        std::cout.flush();  // the child shares our memory, our buffer included
        const pid_t pid = ::vfork();
        if (pid == 0) {  // on the parent's stack: exec or _exit, not even a function call
            ::execl("/bin/true", "true", static_cast<char*>(nullptr));  // no PATH search
            _exit(127);  // exec failed; never return, never call exit()
        }
        Child child(check(pid, "vfork"));  // only the parent gets here
        int status = 0;  // the parent runs again: the child has exec'd (or exited)
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;  // reaped
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "vfork() + exec(\"true\"): exit status "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status))
                  << (ok ? " ✓ the program ran" : " ✗") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "vfork_exec: " << e.what() << '\n';
        return 1;
    }
}
