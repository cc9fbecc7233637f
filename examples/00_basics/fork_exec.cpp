// fork_exec.cpp - run another program: fork() a copy of ourselves, then
// exec*() replaces the copy's program while keeping its PID.
//
// Two classic techniques are shown:
//  * the child's stdout is redirected into a pipe so the parent can read it
//    (Py: subprocess.run(..., capture_output=True));
//  * a second pipe marked close-on-exec tells the parent whether exec worked:
//    a successful exec closes it silently, a failed one writes errno into it.
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns one file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { if (fd_ != -1) ::close(fd_); }
    int get() const { return fd_; }
    void reset() { if (fd_ != -1) ::close(std::exchange(fd_, -1)); }  // close now

private:
    int fd_;
};

struct Pipe {
    Fd read, write;
};

// O_CLOEXEC: these descriptors vanish in the child at exec, so the new
// program never inherits them by accident.
Pipe make_pipe() {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    return {Fd(fds[0]), Fd(fds[1])};
}

std::string read_all(int fd) {
    std::string out;
    char buf[256];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) return out;
        if (n == -1 && errno == EINTR) continue;
        check(static_cast<int>(n), "read");
        out.append(buf, static_cast<std::size_t>(n));
    }
}

struct RunResult {
    pid_t pid = -1;
    int exec_errno = 0;  // 0 when exec succeeded
    int status = 0;      // raw waitpid status
    std::string output;  // what the program wrote to stdout
};

RunResult run_program(const std::vector<std::string>& args) {
    // Build argv *before* fork: the child should do as little as possible
    // between fork and exec (only async-signal-safe calls in general).
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    Pipe out = make_pipe();
    Pipe status = make_pipe();
    std::cout.flush();
    RunResult r;
    r.pid = check(::fork(), "fork");
    if (r.pid == 0) {
        // Child. dup2 onto fd 1 clears close-on-exec for the copy, so the
        // program will write its stdout into our pipe.
        if (::dup2(out.write.get(), STDOUT_FILENO) != -1) ::execvp(argv[0], argv.data());
        // Only reached if exec failed: report why, then leave without
        // running any of the parent's cleanup code.
        int err = errno;
        [[maybe_unused]] ssize_t n = ::write(status.write.get(), &err, sizeof err);
        _exit(127);  // the shell's convention for "command not found"
    }
    // Parent: close our copies of the write ends, or read() never sees EOF.
    out.write.reset();
    status.write.reset();
    int err = 0;
    ssize_t n;
    while ((n = ::read(status.read.get(), &err, sizeof err)) == -1 && errno == EINTR) {}
    check(static_cast<int>(n), "read");
    r.exec_errno = (n == sizeof err) ? err : 0;  // EOF (n == 0): exec succeeded
    r.output = read_all(out.read.get());
    while (::waitpid(r.pid, &r.status, 0) == -1) {
        if (errno != EINTR) check(-1, "waitpid");
    }
    return r;
}

bool exec_keeps_the_pid() {
    // $$ is the shell's own PID; after exec it is the PID fork() gave us.
    RunResult r = run_program({"sh", "-c", "echo $$"});
    const pid_t reported = static_cast<pid_t>(std::stol(r.output));
    const bool same = (reported == r.pid);
    std::cout << "fork() returned pid " << r.pid << ", sh reports $$ = " << reported
              << ": exec kept the pid: " << (same ? "yes" : "no") << '\n';
    const bool clean = WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0;
    std::cout << "sh exited with status " << WEXITSTATUS(r.status) << '\n';
    return same && clean && r.exec_errno == 0;
}

bool exec_failure_is_reported() {
    RunResult r = run_program({"no-such-program-for-this-tutorial"});
    std::cout << "exec of a missing program failed in the child: "
              << std::strerror(r.exec_errno) << " (errno " << r.exec_errno << ")\n"
              << "the child then exited with status " << WEXITSTATUS(r.status) << '\n';
    return r.exec_errno == ENOENT && WIFEXITED(r.status) && WEXITSTATUS(r.status) == 127;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool a = exec_keeps_the_pid();
        const bool b = exec_failure_is_reported();
        std::cout << (a ? "ok" : "FAILED")
                  << ": exec replaced the child's program, not its pid\n"
                  << (b ? "ok" : "FAILED")
                  << ": the parent learned exactly why exec failed\n";
        return (a && b) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
