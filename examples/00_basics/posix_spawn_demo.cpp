// posix_spawn_demo.cpp - fork() + exec() in one call. What the child must do
// before exec (here: stdout into a pipe) is described up front as "file
// actions", so no code of ours runs in the child: safe in a threaded program,
// and cheap for a big parent (glibc uses clone(CLONE_VM | CLONE_VFORK)).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>
#include <utility>

extern char** environ;

namespace {

// A failed call throws, naming the call; main prints it. (posix_spawn*
// return an error number instead of setting errno: check_err.)
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_err(int err, const char* what) {
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// Owners: they close the descriptor, kill and reap the child, free the actions.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    Child() = default;
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};
struct FileActions {
    FileActions() { check_err(posix_spawn_file_actions_init(&fa), "file_actions_init"); }
    FileActions(const FileActions&) = delete;
    ~FileActions() { posix_spawn_file_actions_destroy(&fa); }
    posix_spawn_file_actions_t fa;
};

std::string read_all(int fd) {
    std::string text;
    char buf[256];
    ssize_t n;
    while ((n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read")) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    return text;
}

// Py: subprocess.run(["sh", "-c", ...], capture_output=True)
bool spawn_and_capture() {
    int fds[2];  // O_CLOEXEC: the child keeps only the copy dup2 makes
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd out_read(fds[0]), out_write(fds[1]);
    FileActions actions;  // in the child, before exec: fd 1 becomes the pipe
    check_err(posix_spawn_file_actions_adddup2(&actions.fa, out_write.fd, STDOUT_FILENO),
              "adddup2");
    const char* args[] = {"sh", "-c", "echo \"my pid is $$\"; exit 4", nullptr};
    Child child;  // the "p" searches PATH, like execvp
    check_err(::posix_spawnp(&child.pid, "sh", &actions.fa, nullptr,
                             const_cast<char* const*>(args), environ), "posix_spawnp");
    ::close(std::exchange(out_write.fd, -1));  // ours: while open, no EOF
    const std::string printed = read_all(out_read.fd);
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");
    const pid_t pid = std::exchange(child.pid, -1);  // reaped

    const bool same = printed == "my pid is " + std::to_string(pid) + "\n";
    const bool four = WIFEXITED(status) && WEXITSTATUS(status) == 4;
    std::cout << "posix_spawnp gave pid " << pid << "; sh printed \""
              << printed.substr(0, printed.find('\n')) << '"' << (same ? " ✓" : " ✗")
              << "\nsh exited with status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status))
              << (four ? " ✓" : " ✗")
              << '\n';
    return same && four;
}

// Unlike fork() + exec(), a missing program is reported by the call itself.
bool missing_program_is_an_error_code() {
    Child none;
    const char* args[] = {"no-such-program-for-this-tutorial", nullptr};
    const int err = ::posix_spawnp(&none.pid, args[0], nullptr, nullptr,
                                   const_cast<char* const*>(args), environ);
    if (err != 0 && err != ENOENT) check_err(err, "posix_spawnp");  // not the one we show
    std::cout << "posix_spawnp of a missing program returned " << std::strerror(err)
              << (err == ENOENT ? " ✓ no child to wait for" : " ✗") << '\n';
    return err == ENOENT;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool captured = spawn_and_capture();
        const bool reported = missing_program_is_an_error_code();
        return (captured && reported) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "posix_spawn_demo: " << e.what() << '\n';
        return 1;
    }
}
