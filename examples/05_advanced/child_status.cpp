// child_status.cpp — how did the child end? A value, an exit code, or a signal.
//
// Python: p.exitcode is the exit code, or -N when signal N killed the child.
// Here the parent reads the child's pipe to the end first, then decodes the status
// word of waitpid: WIFSIGNALED / WTERMSIG, else WIFEXITED / WEXITSTATUS.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd { int fd; ~Fd() { if (fd >= 0) ::close(fd); } };   // owns one descriptor

/// Runs `task` in a child; says how the child ended, in Python's terms too.
std::string run_in_child(std::string (*task)()) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end{fds[0]}, write_end{fds[1]};
    std::fflush(stdout);
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {   // the child ends here, whatever happens: never in main's code
        rlimit no_core{0, 0};   // a crash must not leave a core file in the current directory
        ::setrlimit(RLIMIT_CORE, &no_core);
        ::prctl(PR_SET_DUMPABLE, 0);
        std::string result;
        try { result = task(); } catch (...) { _exit(1); }
        _exit(::write(write_end.fd, result.data(), result.size()) == ssize_t(result.size()) ? 0 : 2);
    }
    ::close(write_end.fd);   // now a dead child means end-of-file, never a hang
    write_end.fd = -1;
    // Read first, then wait: a result larger than the pipe (64 KiB) blocks the child in
    // write() until we read, so waiting for its exit first would wait for ever.
    std::string result;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_end.fd, buf, sizeof buf)) > 0;) result.append(buf, size_t(n));
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");   // at end-of-file: it has exited, or is about to
    if (WIFSIGNALED(status))
        return std::string("killed by SIG") + ::sigabbrev_np(WTERMSIG(status)) +
               " (Python exitcode " + std::to_string(-WTERMSIG(status)) + ")";
    if (WEXITSTATUS(status) != 0) return "exit code " + std::to_string(WEXITSTATUS(status));
    return result.size() > 100 ? "ok, " + std::to_string(result.size()) + " bytes" : "ok, result " + result;
}

std::string answer() { return "42"; }
std::string big_result() { return std::string(100 * 1024, 'x'); }   // more than a pipe holds
// _exit, not std::exit: a forked child must not run the parent's atexit handlers
// and static destructors, or flush stdio buffers it inherited.
std::string exits_with_3() { _exit(3); }
std::string segfaults() {
    // A page we may not touch: writing to it is a genuine SIGSEGV, no UB tricks. Default
    // action (die), even if a sanitizer installed a SIGSEGV handler in this program.
    std::signal(SIGSEGV, SIG_DFL);
    void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return "mmap failed";
    *static_cast<volatile char*>(page) = 1;
    return "survived?";
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: child_status (takes no arguments)\n");
        return 2;
    }
    struct Case { const char* label; std::string (*task)(); const char* expected; };
    const Case cases[] = {
        {"returns 42", answer, "ok, result 42"},
        {"returns 100 KiB", big_result, "ok, 102400 bytes"},
        {"_exit(3)", exits_with_3, "exit code 3"},
        {"writes to PROT_NONE", segfaults, "killed by SIGSEGV (Python exitcode -11)"},
    };
    try {
        bool ok = true;
        for (const Case& c : cases) {
            std::string got = run_in_child(c.task);
            std::printf("%-19s -> %s%s\n", c.label, got.c_str(), got == c.expected ? "" : "  (UNEXPECTED)");
            ok = ok && got == c.expected;
        }
        std::printf("%s\n", ok ? "ok: each ending is told apart, and the parent outlives the crash"
                               : "FAIL: an ending was misread");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "child_status: %s\n", e.what());
        return 1;
    }
}
