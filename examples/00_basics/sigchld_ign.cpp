// sigchld_ign.cpp - a parent that sets SIGCHLD to SIG_IGN tells the kernel
// "I will never wait": its children are reaped as they exit, no zombie is
// left, and their exit status is thrown away.
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

// Sets SIGCHLD to SIG_IGN for its lifetime, then puts back what was there.
class IgnoreSigchld {
public:
    IgnoreSigchld() {
        struct sigaction ignore{};
        ignore.sa_handler = SIG_IGN;
        check(::sigaction(SIGCHLD, &ignore, &old_), "sigaction");
    }
    IgnoreSigchld(const IgnoreSigchld&) = delete;
    IgnoreSigchld& operator=(const IgnoreSigchld&) = delete;
    ~IgnoreSigchld() { ::sigaction(SIGCHLD, &old_, nullptr); }

private:
    struct sigaction old_{};
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        IgnoreSigchld ignoring;
        std::cout.flush();  // else the child inherits our buffer and prints it again
        const pid_t pid = check(::fork(), "fork");
        if (pid == 0) _exit(7);  // the child ends at once; it is not ours to reap

        // waitpid blocks until the child is gone, then has nothing to report:
        // the kernel reaped it (so no owner object has to, and none may kill it).
        int status = 0;
        const int rc = ::waitpid(pid, &status, 0);
        const bool reaped = rc == -1 && errno == ECHILD;
        // Signal 0 sends nothing; it only asks "does this process exist?"
        const bool gone = ::kill(pid, 0) == -1 && errno == ESRCH;
        std::cout << "with SIGCHLD ignored: waitpid -> "
                  << (reaped ? "ECHILD, the exit status is lost" : "a status")
                  << (reaped ? " ✓" : " ✗") << '\n'
                  << "no zombie: the pid is " << (gone ? "gone ✓" : "still there ✗")
                  << '\n';
        return (reaped && gone) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sigchld_ign: " << e.what() << '\n';
        return 1;
    }
}
