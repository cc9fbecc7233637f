// exec_failure.cpp - after fork(), exec can fail (no such program, no
// permission), and the parent should learn why. The classic trick: a pipe
// marked close-on-exec. A successful exec closes it silently, so the parent
// reads end-of-file; a failed one writes errno into it before _exit(127).
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owners: they close the descriptor, kill and reap the child, if we leave early.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Runs `program`; returns 0 if exec worked, or the errno with which it failed.
int run_program(const char* program, int& status) {
    int fds[2];  // O_CLOEXEC: a successful exec closes the child's copy
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd report_read(fds[0]), report_write(fds[1]);
    std::cout.flush();  // else the child inherits our buffer and prints it again
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) {  // the child: exec; if it fails, only write and _exit
        // execlp's PATH search is not async-signal-safe (execv is): fine with one
        // thread, not after fork() in a threaded program (see fork_and_threads).
        ::execlp(program, program, static_cast<char*>(nullptr));
        const int err = errno;  // exec returned, so it failed
        [[maybe_unused]] ssize_t n = ::write(report_write.fd, &err, sizeof err);
        _exit(127);  // the shell's "command not found"
    }
    ::close(std::exchange(report_write.fd, -1));  // now only the child holds a write end
    int err = 0;
    const ssize_t n = ::read(report_read.fd, &err, sizeof err);
    check(static_cast<int>(n), "read");
    check(::waitpid(child.pid, &status, 0), "waitpid");
    child.pid = -1;  // reaped
    return n == sizeof err ? err : 0;  // n == 0: end of file, exec succeeded
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int status = 0;
        const int ok_err = run_program("true", status);
        const bool ran = ok_err == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "exec(\"true\"): the pipe closed with no data, exit status "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status))
                  << (ran ? " ✓ exec worked" : " ✗") << '\n';

        const int err = run_program("no-such-program-for-this-tutorial", status);
        const bool told = err == ENOENT && WIFEXITED(status) && WEXITSTATUS(status) == 127;
        std::cout << "exec(\"no-such-program...\"): the pipe carried errno " << err
                  << " (" << std::strerror(err) << "), exit status "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status))
                  << (told ? " ✓ the parent knows why" : " ✗") << '\n';
        return (ran && told) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "exec_failure: " << e.what() << '\n';
        return 1;
    }
}
