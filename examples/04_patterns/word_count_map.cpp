// word_count_map.cpp - the map half of MapReduce: four children count a share
// of the words each and send their counts back; the parent merges them (the
// reduce, in one process). Python: pool.map(count_words, chunks), then sum().
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

constexpr int kMappers = 4, kWords = 300'000;
using Counts = std::unordered_map<std::string, long>;  // Python's Counter

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Pipe {  // owns both ends: end[0] is read from, end[1] written to
    int end[2] = {-1, -1};
    Pipe() { check(::pipe2(end, O_CLOEXEC), "pipe2"); }
    ~Pipe() { close(0), close(1); }
    void close(int i) { if (end[i] != -1) ::close(std::exchange(end[i], -1)); }
};

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        if ((pid = check(::fork(), "fork")) != 0) return;
        try { body(); } catch (...) { _exit(1); }  // the child ends here, whatever happens
        _exit(0);
    }
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

// The map: count every kMappers-th word, send "word count" lines.
void map(const std::vector<std::string>& words, int m, int to) {
    Counts counts;
    for (int i = m; i < kWords; i += kMappers) ++counts[words[i]];
    std::string out;
    for (auto& [w, n] : counts) out += w + ' ' + std::to_string(n) + '\n';
    for (std::string_view d = out; !d.empty();)  // a pipe may take it in pieces
        d.remove_prefix(check(static_cast<int>(::write(to, d.data(), d.size())), "write"));
}

int main(int argc, char* argv[]) {
    if (argc > 1) return std::cerr << "usage: " << argv[0] << '\n', 2;
    try {
        std::mt19937 rng(2026);          // a fixed seed: the same words every run
        std::vector<std::string> words;  // the children share them copy-on-write
        for (int i = 0; i < kWords; ++i) {  // few common words, many rare ones
            const unsigned a = rng() % 500, b = rng() % 500;
            words.push_back("w" + std::to_string(a * b / 500));
        }
        std::deque<Pipe> pipes;  // a deque never moves them (nor the children)
        std::deque<Child> mappers;
        for (int m = 0; m < kMappers; ++m) {
            Pipe& p = pipes.emplace_back();  // made just before its mapper: no other inherits it
            mappers.emplace_back([&, m] { p.close(0), map(words, m, p.end[1]); });
            p.close(1);  // ours closed: end-of-file when this mapper is done
        }
        Counts merged;  // the reduce, here in one process
        for (auto& p : pipes) {
            std::string text, w;
            char buf[4096];
            for (int n; (n = check(static_cast<int>(::read(p.end[0], buf, sizeof buf)), "read")) > 0;)
                text.append(buf, n);  // until end-of-file: the mapper is done
            std::istringstream in(text);
            for (long n; in >> w >> n;) merged[w] += n;
        }
        bool ok = true;
        for (auto& m : mappers) ok = m.wait() && ok;
        long total = 0;
        for (auto& [w, n] : merged) total += n;
        Counts serial;
        for (auto& w : words) ++serial[w];
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
