// fork_exec.cpp - run another program: fork() a copy of ourselves, then
// exec*() replaces the copy's program and keeps its PID. The child's stdout
// goes into a pipe, so the parent reads what the program printed
// (Py: subprocess.run(..., capture_output=True)).
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
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

std::string read_all(int fd) {
    std::string text;
    char buf[256];
    ssize_t n;
    while ((n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read")) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    return text;  // n == 0: end of file, every write end is closed
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int fds[2];  // O_CLOEXEC: sh must not inherit these (dup2 makes its one copy)
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        Fd out_read(fds[0]), out_write(fds[1]);

        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {  // the child: only async-signal-safe calls, then _exit
            if (::dup2(out_write.fd, STDOUT_FILENO) != -1)  // fd 1 is now the pipe
                ::execl("/bin/sh", "sh", "-c", "echo $$", static_cast<char*>(nullptr));
            _exit(127);  // dup2 or exec failed: the shell's "command not found"
        }
        ::close(std::exchange(out_write.fd, -1));  // ours: while open, no EOF
        const std::string printed = read_all(out_read.fd);
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        const pid_t pid = std::exchange(child.pid, -1);  // reaped

        // $$ is the shell's own PID: the number fork() gave us.
        const bool same = printed == std::to_string(pid) + "\n";
        std::cout << "fork() returned " << pid << "; sh in the child printed $$ = "
                  << printed.substr(0, printed.find('\n')) << (same ? " ✓" : " ✗")
                  << " exec kept the pid\n";
        const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (WIFSIGNALED(status))  // no exit status to read: WEXITSTATUS would be noise
            std::cout << "sh was killed by signal " << WTERMSIG(status) << " ✗\n";
        else
            std::cout << "sh exited with status " << WEXITSTATUS(status) << (clean ? " ✓" : " ✗") << '\n';
        return (same && clean) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "fork_exec: " << e.what() << '\n';
        return 1;
    }
}
