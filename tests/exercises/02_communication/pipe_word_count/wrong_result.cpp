// pipe_word_count (WRONG on purpose: it counts lines, not words) - the parent sends LINES lines
// of text down one pipe; a child counts the words and sends the count back up
// another. Python: two multiprocessing.Pipe(duplex=False) and one Process.
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

constexpr const char* kLine = "to be or not to be\n";  // 6 words
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

std::string read_all(int fd) {  // until end-of-file: every write end is closed
    std::string text;
    char buf[4096];
    while (ssize_t n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read"))
        text.append(buf, static_cast<size_t>(n));
    return text;
}
void write_all(int fd, const std::string& text) {
    for (size_t done = 0; done < text.size();)
        done += static_cast<size_t>(check(static_cast<int>(
            ::write(fd, text.data() + done, text.size() - done)), "write"));
}

int count_words(Pipe& text, Pipe& result) {  // the child's work
    text.write.close();    // ours is closed, so EOF comes when the parent closes its end
    result.read.close();
    std::istringstream in(read_all(text.read.fd));
    long words = 0;
    for (std::string line; std::getline(in, line);) ++words;  // counts lines, not words
    write_all(result.write.fd, std::to_string(words));
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
        text.read.close();
        result.write.close();  // else read_all(result) would wait for ever
        std::string all;
        for (long i = 0; i < lines; ++i) all += kLine;
        write_all(text.write.fd, all);
        text.write.close();  // end-of-file for the child
        const long words = std::stol("0" + read_all(result.read.fd));
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;  // reaped
        std::cout << (WIFEXITED(status) ? "child exited with status " : "child killed by signal ")
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)) << '\n'
                  << "words counted by the child: " << words << " (expected "
                  << lines * kWordsPerLine << ")\n";
        return words == lines * kWordsPerLine ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pipe_word_count: " << e.what() << '\n';
        return 1;
    }
}
