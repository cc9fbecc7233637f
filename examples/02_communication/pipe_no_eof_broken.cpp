// pipe_no_eof_broken.cpp - BROKEN ON PURPOSE: the reader never sees EOF
// because the parent forgot to close its own copy of the write end.
// Python: the same hang happens with Pipe() when the parent keeps the
// writing Connection open and loops on recv().
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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

// Reads until end-of-file (true) or until nothing happens for 500 ms (false):
// the time-out lets this example observe the hang and still exit.
bool drain_until_eof(int fd, std::string& out) {
    char buf[256];
    for (pollfd p{fd, POLLIN, 0}; check(::poll(&p, 1, 500), "poll") == 1;) {
        ssize_t n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read");
        if (n == 0) return true;
        out.append(buf, static_cast<size_t>(n));
    }
    return false;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");
        std::fflush(stdout);             // else the child prints our buffer again
        Child writer(check(::fork(), "fork"));
        if (writer.pid == 0) {           // the child: one write(), then _exit
            ::close(fds[0]);
            const char msg[] = "the only message\n";
            _exit(::write(fds[1], msg, sizeof msg - 1) == sizeof msg - 1 ? 0 : 1);
        }
        int status = 0;
        check(::waitpid(writer.pid, &status, 0), "waitpid");
        writer.pid = -1;                 // reaped: its write end is closed
        std::printf("writer finished with status %d and closed its write end\n",
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1);

        // THE BUG: the parent never closed fds[1], so one write end is still
        // open -- its own -- and the kernel cannot report end-of-file.
        std::string text;
        const bool first = drain_until_eof(fds[0], text);
        std::printf("reader got %zu bytes, then %s\n", text.size(),
                    first ? "EOF (unexpected)" : "no EOF within 500 ms: it would hang for ever");

        // THE FIX: close the parent's copy; now read() returns 0 at once.
        ::close(fds[1]);
        const bool second = drain_until_eof(fds[0], text);
        ::close(fds[0]);
        std::printf("after the parent closed its write end: %s\n",
                    second ? "EOF" : "still no EOF (unexpected)");
        const bool shown = WIFEXITED(status) && WEXITSTATUS(status) == 0 && !first && second;
        std::printf("%s\n", shown ? "shown: EOF needs every write end closed, the reader's own too"
                                  : "FAILED to show the hang");
        return shown ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_no_eof_broken: %s\n", e.what());
        return 1;
    }
}
