// word_count_map.cpp - the map half of MapReduce: four children count a slice
// each and send their counts back; the parent merges them (the reduce, in one
// process). Python: pool.map(count_words, chunks), then sum of the Counters.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

constexpr int kMappers = 4, kWords = 300'000;
using Counts = std::unordered_map<std::string, long>;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Mapper {  // a child and the read end of its pipe; killed and reaped if we leave early
    pid_t pid = -1;
    int from = -1;
    Mapper(Mapper&& o) noexcept : pid(std::exchange(o.pid, -1)), from(std::exchange(o.from, -1)) {}
    ~Mapper() {
        if (from != -1) ::close(from);
        if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
    // Forks a child that counts `text` and writes "word count" lines to the pipe.
    explicit Mapper(std::string_view text) {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        from = fds[0];
        std::cout.flush();  // else the child prints our buffered text again
        pid = ::fork();
        if (pid == -1) {  // a throwing constructor runs no destructor: close both here
            const int err = errno;
            ::close(fds[0]), ::close(fds[1]);
            throw std::system_error(err, std::generic_category(), "fork");
        }
        if (pid == 0) {  // the child ends here, whatever happens
            int code = 1;
            try { code = map(text, fds[1]); } catch (...) {}
            _exit(code);
        }
        ::close(fds[1]);  // ours closed: end-of-file when the child is done
    }
    static int map(std::string_view text, int to) {
        Counts counts;  // a Counter per chunk
        std::istringstream in{std::string(text)};
        for (std::string w; in >> w;) ++counts[w];
        std::string out;
        for (auto& [w, n] : counts) out += w + ' ' + std::to_string(n) + '\n';
        for (std::string_view d = out; !d.empty();)
            d.remove_prefix(check(static_cast<int>(::write(to, d.data(), d.size())), "write"));
        return 0;
    }
};

int main(int argc, char* argv[]) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        std::mt19937 rng(2026);  // a fixed seed: the same text every run
        std::string corpus;      // the children share it copy-on-write
        for (int i = 0; i < kWords; ++i) {  // few common words, many rare ones
            const unsigned a = rng() % 500, b = rng() % 500;
            corpus += "w" + std::to_string(a * b / 500) + ' ';
        }
        std::vector<Mapper> mappers;
        for (int m = 0; m < kMappers; ++m) {  // slice m, cut at a space: no word is split
            auto cut = [&](int k) {  // just after the first space at or after k/4 of the text
                return k == 0 ? 0 : corpus.find(' ', corpus.size() * k / kMappers - 1) + 1;
            };
            const std::size_t from = cut(m), to = cut(m + 1);
            mappers.emplace_back(std::string_view(corpus).substr(from, to - from));
        }
        Counts merged;  // the reduce, here in one process
        for (auto& m : mappers) {
            std::string text;
            char buf[4096];
            for (int n; (n = check(static_cast<int>(::read(m.from, buf, sizeof buf)), "read")) > 0;)
                text.append(buf, n);  // until end-of-file: the mapper is done
            std::istringstream in(text);
            std::string w;
            for (long n; in >> w >> n;) merged[w] += n;
        }
        bool ok = true;
        for (auto& m : mappers) {
            int status = 0;
            check(::waitpid(std::exchange(m.pid, -1), &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        long total = 0;
        for (auto& [w, n] : merged) total += n;
        Counts serial;
        std::istringstream all(corpus);
        for (std::string w; all >> w;) ++serial[w];
        std::cout << kMappers << " mappers counted " << total << " words (expected " << kWords
                  << "), " << merged.size() << " distinct\n"
                  << "merged counts equal a serial count: " << (merged == serial ? "yes" : "no")
                  << '\n';
        return ok && total == kWords && merged == serial ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "word_count_map: " << e.what() << '\n';
        return 1;
    }
}
