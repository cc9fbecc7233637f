// pipes_basic.cpp - an anonymous pipe from a child to its parent. The reader
// sees end-of-file only when EVERY write end is closed, its own copy too.
// Python: r, w = multiprocessing.Pipe(duplex=False) is a pipe like this one.
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

// The child writes three lines and exits, which closes its write end.
int writer(int fd) {
    for (int i = 1; i <= 3; ++i) {
        std::string line = "message " + std::to_string(i) + "\n";
        check(static_cast<int>(::write(fd, line.data(), line.size())), "write");
    }
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");      // fds[0] reads, fds[1] writes
        std::printf("parent: a child writes, I read until end-of-file\n");
        std::fflush(stdout);             // else the child prints our buffer again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {            // the child ends here, whatever happens
            int code = 1;
            try {
                ::close(fds[0]);         // the child only writes
                code = writer(fds[1]);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "pipes_basic (child): %s\n", e.what());
            } catch (...) {}
            _exit(code);
        }
#ifndef BREAK_KEEP_WRITE_END  // "Break it" on the page: build with -DBREAK_KEEP_WRITE_END
        ::close(fds[1]);                 // crucial: or read() never returns 0
#else
        ::alarm(3);                      // write end kept open: SIGALRM ends the hang
#endif
        std::string text;
        char buf[256];
        for (ssize_t n; (n = check(static_cast<int>(::read(fds[0], buf, sizeof buf)), "read")) > 0;)
            text.append(buf, static_cast<size_t>(n));   // 0 = end-of-file
        ::close(fds[0]);
        int lines = 0;
        for (char c : text) lines += (c == '\n');
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;                  // reaped
        std::printf("parent read %d lines, then read() returned 0: every write end is closed\n",
                    lines);
        const bool ok = lines == 3 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s\n", ok ? "end-of-file told the parent the child was done" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipes_basic: %s\n", e.what());
        return 1;
    }
}
