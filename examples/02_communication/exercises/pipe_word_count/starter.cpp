// pipe_word_count (exercise, starter) - the parent sends LINES lines of text down
// one pipe; a child counts the words and sends the count back up another.
// Fill in the two TODOs. Python: two multiprocessing.Pipe(duplex=False), one Process.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <system_error>

namespace {

[[maybe_unused]] constexpr const char* kLine = "to be or not to be\n";  // 6 words; yours to write
constexpr long kWordsPerLine = 6;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd >= 0) ::close(fd); fd = -1; }
};
struct Pipe {
    Fd read, write;
    Pipe() { int fds[2]; check(::pipe(fds), "pipe"); read.fd = fds[0]; write.fd = fds[1]; }
};
struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

[[maybe_unused]] std::string read_all(int fd) {  // until end-of-file
    std::string text;
    char buf[4096];
    while (ssize_t n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read"))
        text.append(buf, static_cast<size_t>(n));
    return text;
}
[[maybe_unused]] void write_all(int fd, const std::string& text) {
    for (size_t done = 0; done < text.size();)
        done += static_cast<size_t>(check(static_cast<int>(
            ::write(fd, text.data() + done, text.size() - done)), "write"));
}

int count_words([[maybe_unused]] Pipe& text, [[maybe_unused]] Pipe& result) {
    // TODO (the child): read the text from text.read to end-of-file, count the
    // words, write the count (as digits) to result.write. Which ends must the
    // child close first, and why?
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    const long lines = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
    if (argc != 2 || lines <= 0) {
        std::cerr << "usage: " << argv[0] << " LINES\n";
        return 2;
    }
    try {
        Pipe text, result;
        std::cout.flush();  // the child must not inherit unprinted output
        Child child;
        child.pid = check(::fork(), "fork");
        if (child.pid == 0) {  // the child ends here, whatever happens
            int code = 1;
            try { code = count_words(text, result); } catch (...) {}
            _exit(code);
        }
        // TODO (the parent): send `lines` copies of kLine, read the child's count
        // from result.read, then reap the child with waitpid().
        const long words = 0;
        int status = 0;
        std::cout << "child exited with status " << WEXITSTATUS(status) << '\n'
                  << "words counted by the child: " << words << " (expected "
                  << lines * kWordsPerLine << ")\n";
        return words == lines * kWordsPerLine ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pipe_word_count: " << e.what() << '\n';
        return 1;
    }
}
