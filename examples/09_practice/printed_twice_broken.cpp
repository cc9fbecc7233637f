// printed_twice_broken.cpp - "my output is printed twice". stdio buffers what
// you print; when the output is a pipe or a file (not a terminal) the buffer is
// only written when full or at exit. fork() copies the unwritten buffer, and
// both processes write it at exit. Here the "output" is a pipe we read back,
// so the program can count: once without a flush before fork, once with one.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Prints "report ready" into a pipe through stdio, forks, and counts how many
// times the line arrived. The child ends with exit(), which flushes stdio.
int times_printed(bool flush_before_fork) {
    int fd[2];
    check(::pipe(fd), "pipe");
    std::FILE* out = ::fdopen(fd[1], "w");  // a pipe: fully buffered, like stdout in CI
    if (!out) throw std::system_error(errno, std::generic_category(), "fdopen");
    std::fprintf(out, "report ready\n");
    if (flush_before_fork) std::fflush(out);
    std::cout.flush();
    const pid_t pid = ::fork();
    if (pid == -1) { std::fclose(out); ::close(fd[0]); check(-1, "fork"); }
    if (pid == 0) { std::fclose(out); _exit(0); }  // fclose flushes the inherited copy
    std::fclose(out);  // our copy: flushed too; and our write end is closed
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");  // the child ends by itself
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(fd[0], buf, sizeof buf)) > 0;) text.append(buf, n);
    ::close(fd[0]);
    int count = 0;
    for (auto at = text.find("report ready"); at != std::string::npos; at = text.find("report ready", at + 1))
        ++count;
    return count;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const int broken = times_printed(false);
        const int fixed = times_printed(true);
        std::cout << "no flush before fork: printed " << broken << " times"
                  << (broken == 2 ? " ✗ (the buffer was copied)" : "") << '\n'
                  << "fflush before fork:   printed " << fixed << " time"
                  << (fixed == 1 ? " ✓" : "") << '\n';
        return broken == 2 && fixed == 1 ? 0 : 1;  // the claim: the flush makes the difference
    } catch (const std::exception& e) {
        std::cerr << "printed_twice_broken: " << e.what() << '\n';
        return 1;
    }
}
