// posix_spawn_demo.cpp - fork()+exec() in one call.
//
// posix_spawn() starts a program in a new process. What the child must do
// before exec (redirect a descriptor, close another, change its signal mask)
// is described up front with "file actions" and "attributes", so no code of
// ours runs in the child at all. That makes it safe in multithreaded
// programs, and glibc implements it with clone(CLONE_VM|CLONE_VFORK), which
// does not copy the parent's page tables: cheap even for a huge parent.
#include <fcntl.h>
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
#include <vector>

extern char** environ;

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// posix_spawn* functions return an error number instead of setting errno.
void check_spawn(int err, const char* what) {
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ != -1) ::close(std::exchange(fd_, -1)); }

private:
    int fd_;
};

// RAII for the list of actions the child performs before exec.
class FileActions {
public:
    FileActions() { check_spawn(posix_spawn_file_actions_init(&fa_), "file_actions_init"); }
    FileActions(const FileActions&) = delete;
    FileActions& operator=(const FileActions&) = delete;
    ~FileActions() { posix_spawn_file_actions_destroy(&fa_); }
    void dup2(int from, int to) {
        check_spawn(posix_spawn_file_actions_adddup2(&fa_, from, to), "adddup2");
    }
    const posix_spawn_file_actions_t* get() const { return &fa_; }

private:
    posix_spawn_file_actions_t fa_;
};

struct Spawned {
    int error = 0;       // 0, or why the spawn failed
    pid_t pid = -1;
    int status = 0;
    std::string output;
};

// Py: subprocess.run(args, capture_output=True)
Spawned spawn_and_capture(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");  // the child keeps only its dup2 copy
    Fd read_end(fds[0]), write_end(fds[1]);
    FileActions actions;
    actions.dup2(write_end.get(), STDOUT_FILENO);

    Spawned s;
    // The "p" in spawnp searches PATH, like execvp.
    s.error = ::posix_spawnp(&s.pid, argv[0], actions.get(), nullptr, argv.data(), environ);
    write_end.reset();  // our copy: close it, so that read() sees EOF
    if (s.error != 0) return s;  // nothing was started, nothing to wait for

    char buf[256];
    for (;;) {
        ssize_t n = ::read(read_end.get(), buf, sizeof buf);
        if (n == 0) break;
        if (n == -1 && errno == EINTR) continue;
        check(static_cast<int>(n), "read");
        s.output.append(buf, static_cast<std::size_t>(n));
    }
    while (::waitpid(s.pid, &s.status, 0) == -1) {
        if (errno != EINTR) check(-1, "waitpid");
    }
    return s;
}

bool spawn_a_program() {
    Spawned s =
        spawn_and_capture({"sh", "-c", "echo \"spawned shell: my pid is $$\"; exit 4"});
    std::cout << "captured: " << s.output;
    const std::string expected = "spawned shell: my pid is " + std::to_string(s.pid) + "\n";
    const bool ok = s.error == 0 && s.output == expected && WIFEXITED(s.status) &&
                    WEXITSTATUS(s.status) == 4;
    std::cout << "posix_spawnp gave pid " << s.pid
              << "; the output names that pid and exit status " << WEXITSTATUS(s.status)
              << " arrived: " << (ok ? "yes" : "no") << '\n';
    return ok;
}

// Unlike a hand-written fork()+exec(), a failed exec is reported by the call itself.
bool spawn_failure_is_an_error_code() {
    Spawned s = spawn_and_capture({"no-such-program-for-this-tutorial"});
    std::cout << "posix_spawnp of a missing program returned: " << std::strerror(s.error)
              << " (no child to wait for)\n";
    return s.error == ENOENT;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool a = spawn_a_program();
        const bool b = spawn_failure_is_an_error_code();
        std::cout << (a ? "ok" : "FAILED")
                  << ": posix_spawnp ran a program with its stdout redirected\n"
                  << (b ? "ok" : "FAILED")
                  << ": a failed exec came back as ENOENT from the call\n";
        return (a && b) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
