// exit_status.cpp - waitpid() fills one int, the status word, that says how a
// child ended: an exit code, or the signal that killed it. Python's exitcode
// is the code, or minus the signal number; the W* macros decode it.
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
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

// Runs `body` in a child and returns the status word waitpid() reports.
int status_of(int (*body)()) {
    std::cout.flush();  // else the child inherits our buffer and prints it again
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) {  // the child: whatever happens, it ends here
        int code = 1;
        try { code = body(); } catch (...) {}
        _exit(code);
    }
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");
    child.pid = -1;  // reaped
    return status;
}

// Py: Process.exitcode
int exitcode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);   // exit(n) or return n
    if (WIFSIGNALED(status)) return -WTERMSIG(status);  // killed by a signal
    return 0;  // stopped/continued: reported only with WUNTRACED/WCONTINUED
}

std::string describe(int status) {
    if (WIFEXITED(status))
        return "exited with code " + std::to_string(WEXITSTATUS(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (SIG" +
           sigabbrev_np(WTERMSIG(status)) + ")";
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        struct Case {
            const char* what;
            int (*body)();
            int expected;
        };
        const Case cases[] = {
            {"return 0       ", [] { return 0; }, 0},
            {"return 3       ", [] { return 3; }, 3},
            {"raise(SIGTERM) ", [] { ::raise(SIGTERM); return 0; }, -SIGTERM},
            {"raise(SIGKILL) ", [] { ::raise(SIGKILL); return 0; }, -SIGKILL},
        };
        bool ok = true;
        for (const Case& c : cases) {
            const int status = status_of(c.body);
            const int code = exitcode(status);
            std::cout << c.what << ": " << describe(status) << " -> exitcode " << code
                      << (code == c.expected ? " ✓" : " ✗") << '\n';
            ok = ok && code == c.expected;
        }
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "exit_status: " << e.what() << '\n';
        return 1;
    }
}
