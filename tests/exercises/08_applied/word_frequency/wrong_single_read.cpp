// WRONG: one read() per pipe, as if it returned the whole message - a pipe is a stream:
// the parent gets the first 4 KB, closes the pipe, and the mapper dies of SIGPIPE.
// word_frequency (exercise, reference solution) - map-reduce over pipes: four
// mapper children count the words of their share of the lines and send "word
// count" lines up their own pipes; the parent merges them and reaps the mappers.
// Python: Pool.map(count_words, shares), then sum(counters, Counter()).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

constexpr int kMappers = 4;
using Counts = std::map<std::string, long>;

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
    void open() { int fds[2]; check(::pipe(fds), "pipe"); read.fd = fds[0]; write.fd = fds[1]; }
};
struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

Counts count_words(long first, long last) {  // the text: line i is "the word<i> word<i/2>"
    Counts counts;
    for (long i = first; i < last; ++i)
        for (long n : {-1L, i, i / 2}) ++counts[n < 0 ? "the" : "word" + std::to_string(n)];
    return counts;
}

int map_lines(long first, long last, int out) {  // a mapper: count, then send it all
    std::string text;
    for (const auto& [word, n] : count_words(first, last))
        text += word + ' ' + std::to_string(n) + '\n';
    for (size_t done = 0; done < text.size();)  // 109-180 KB: more than a pipe holds
        done += static_cast<size_t>(check(static_cast<int>(
            ::write(out, text.data() + done, text.size() - done)), "write"));
    return 0;
}

long reduce(int fd, Counts& merged) {  // read to end-of-file: a pipe is a stream
    std::string text;
    char buf[4096];
    if (ssize_t n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read"))
        text.append(buf, static_cast<size_t>(n));
    std::istringstream in(text);
    long pairs = 0, n;
    for (std::string word; in >> word >> n; ++pairs) merged[word] += n;
    return pairs;
}

}  // namespace

int main(int argc, char* argv[]) {
    const long lines = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
    if (argc != 2 || lines < kMappers) {
        std::cerr << "usage: " << argv[0] << " LINES (at least " << kMappers << ")\n";
        return 2;
    }
    try {
        std::array<Pipe, kMappers> pipes;
        std::array<Child, kMappers> mappers;
        for (int m = 0; m < kMappers; ++m) {
            const long first = lines * m / kMappers, last = lines * (m + 1) / kMappers;
            pipes[m].open();
            std::cout.flush();  // the child must not inherit unprinted output
            mappers[m].pid = check(::fork(), "fork");
            if (mappers[m].pid == 0) {  // the child ends here, whatever happens
                int code = 1;
                for (Pipe& p : pipes) p.read.close();  // only the parent may read: else no SIGPIPE
                try { code = map_lines(first, last, pipes[m].write.fd); } catch (...) {}
                _exit(code);
            }
            pipes[m].write.close();  // else no end-of-file, and the next mapper inherits it
        }
        Counts merged;
        for (int m = 0; m < kMappers; ++m) {  // read each pipe to its end BEFORE waitpid
            const long pairs = reduce(pipes[m].read.fd, merged);
            pipes[m].read.close();
            std::cout << "mapper " << m << ": " << pairs << " (word, count) pairs\n";
        }
        for (int m = 0; m < kMappers; ++m) {  // each pipe is at end-of-file: they are done
            int status = 0;
            check(::waitpid(mappers[m].pid, &status, 0), "waitpid");
            mappers[m].pid = -1;  // reaped
            if (status != 0)  // "exited with status 0" is the one good end
                throw std::runtime_error("mapper " + std::to_string(m) + (WIFSIGNALED(status)
                    ? std::string(" killed: ") + ::strsignal(WTERMSIG(status)) : " failed"));
        }
        const bool same = merged == count_words(0, lines);
        std::cout << "merged: " << merged.size() << " distinct words, 'the' " << merged["the"]
                  << " times\nequal to a count in one process: " << (same ? "yes" : "NO") << '\n';
        return same ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "word_frequency: " << e.what() << '\n';
        return 1;
    }
}
