// mapreduce_example.cpp - word count as MapReduce with processes and pipes.
//   corpus -> mapper 0..3 --(4 x 3 pipes: the "shuffle")--> reducer 0..2 -> parent
// Each mapper counts its slice and sends (word, count) to reducer fnv1a(word) % 3,
// so every count of a word, from any mapper, meets at the same reducer.
// Python: pool.map(count_words, chunks), then merging Counters in the parent.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr int kMappers = 4, kReducers = 3, kWords = 300'000;
using Counts = std::unordered_map<std::string, long>;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: owners
struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(std::exchange(fd, -1)); }
};
struct Pipe {
    Fd read, write;
    Pipe() {
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        read.fd = fds[0], write.fd = fds[1];
    }
};
// In a child: close every pipe end but `keep`, or a reader never sees end-of-file.
void keep_only(std::vector<Pipe>& pipes, const std::vector<int>& keep) {
    for (auto& p : pipes)
        for (Fd* end : {&p.read, &p.write})
            if (std::find(keep.begin(), keep.end(), end->fd) == keep.end()) end->close();
}

// Owns a forked child running body(); kills and reaps it if we leave early.
struct Child {
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        pid = check(::fork(), "fork");
        if (pid != 0) return;
        int code = 1;  // the child ends here, whatever happens
        try { body(); code = 0; } catch (const std::exception& e) { std::cerr << e.what() << '\n'; }
        catch (...) {}
        _exit(code);
    }
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};
// ANCHOR_END: owners

void write_all(int fd, std::string_view data) {
    while (!data.empty())
        data.remove_prefix(check(static_cast<int>(::write(fd, data.data(), data.size())), "write"));
}
std::string read_all(int fd) {  // until end-of-file
    std::string text;
    char buf[4096];
    for (int n; (n = check(static_cast<int>(::read(fd, buf, sizeof buf)), "read")) > 0;)
        text.append(buf, n);
    return text;
}

// A fixed seed, and few common words with many rare ones: the same text every run.
std::string make_corpus() {
    std::mt19937 rng(2026);  // mt19937's output is fixed by the standard
    std::string corpus;
    for (int i = 0; i < kWords; ++i) {
        const unsigned a = rng() % 500, b = rng() % 500;
        corpus += "w" + std::to_string(a * b / 500) + ' ';  // small numbers are common
    }
    return corpus;
}
// Slice i of n, cut at spaces so that no word is split between two mappers.
std::string_view slice(std::string_view text, int i, int n) {
    auto cut = [&](int k) {
        std::size_t pos = text.size() * k / n;
        while (pos > 0 && pos < text.size() && text[pos - 1] != ' ') ++pos;
        return pos;
    };
    return text.substr(cut(i), cut(i + 1) - cut(i));
}
void add_words(std::string_view text, Counts& counts) {
    std::istringstream in{std::string(text)};
    for (std::string w; in >> w;) ++counts[w];
}
void add_pairs(std::string_view text, Counts& counts) {  // "word count" lines
    std::istringstream in{std::string(text)};
    std::string w;
    for (long n; in >> w >> n;) counts[w] += n;
}

// ANCHOR: map
// FNV-1a: a fixed hash, so every mapper sends a word to the same reducer.
int partition_of(std::string_view word) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : word) h = (h ^ c) * 16777619u;
    return static_cast<int>(h % kReducers);
}
// Map + shuffle: count locally (a "combiner"), then send each pair to its owner.
void mapper(std::string_view text, const std::vector<int>& to_reducer) {
    Counts counts;
    add_words(text, counts);
    std::vector<std::string> out(kReducers);
    for (auto& [word, n] : counts) out[partition_of(word)] += word + ' ' + std::to_string(n) + '\n';
    for (int r = 0; r < kReducers; ++r) write_all(to_reducer[r], out[r]);
}
// ANCHOR_END: map

// ANCHOR: reduce
// Reduce: read all inputs at once with poll(), so that no mapper stays blocked on a
// full pipe while we wait for another; at end-of-file on all, report the totals.
void reducer(std::vector<pollfd> in, int to_parent) {
    std::vector<std::string> text(in.size());
    for (std::size_t open = in.size(); open > 0;) {
        check(::poll(in.data(), in.size(), -1), "poll");
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (in[i].revents == 0) continue;
            char buf[4096];
            const int n = check(static_cast<int>(::read(in[i].fd, buf, sizeof buf)), "read");
            if (n == 0) in[i].fd = -1, --open;  // that mapper is done; poll skips -1
            text[i].append(buf, n);
        }
    }
    Counts counts;
    for (auto& t : text) add_pairs(t, counts);
    std::string report;
    for (auto& [word, n] : counts) report += word + ' ' + std::to_string(n) + '\n';
    write_all(to_parent, report);
}
// ANCHOR_END: reduce

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // ANCHOR: main
        const std::string corpus = make_corpus();  // the children share it copy-on-write
        std::cout << "corpus: " << kWords << " words from a fixed seed; " << kMappers
                  << " mappers, " << kReducers << " reducers, reducer = fnv1a(word) % "
                  << kReducers << '\n';
        // pipes[m * R + r]: mapper m -> reducer r; pipes[M * R + r]: reducer r -> parent
        std::vector<Pipe> pipes(kMappers * kReducers + kReducers);
        auto shuffle = [&](int m, int r) -> Pipe& { return pipes[m * kReducers + r]; };
        auto result = [&](int r) -> Pipe& { return pipes[kMappers * kReducers + r]; };
        std::vector<Child> children;
        for (int m = 0; m < kMappers; ++m)
            children.emplace_back([&, m] {
                std::vector<int> out;
                for (int r = 0; r < kReducers; ++r) out.push_back(shuffle(m, r).write.fd);
                keep_only(pipes, out);
                mapper(slice(corpus, m, kMappers), out);
            });
        for (int r = 0; r < kReducers; ++r)
            children.emplace_back([&, r] {
                std::vector<int> keep{result(r).write.fd};
                std::vector<pollfd> in;
                for (int m = 0; m < kMappers; ++m) {
                    keep.push_back(shuffle(m, r).read.fd);
                    in.push_back({shuffle(m, r).read.fd, POLLIN, 0});
                }
                keep_only(pipes, keep);
                reducer(in, result(r).write.fd);
            });
        std::vector<int> ours;  // the parent keeps only the result pipes' read ends
        for (int r = 0; r < kReducers; ++r) ours.push_back(result(r).read.fd);
        keep_only(pipes, ours);

        // Reducers own disjoint sets of words: merging is concatenation. Check it.
        Counts merged;
        bool disjoint = true;
        for (int r = 0; r < kReducers; ++r) {
            Counts part;
            add_pairs(read_all(result(r).read.fd), part);  // EOF: reducer r is done
            std::cout << "reducer " << r << " owns " << part.size() << " words\n";
            for (auto& wn : part) disjoint = merged.insert(wn).second && disjoint;
        }
        bool ok = true;
        for (auto& c : children) ok = c.wait() && ok;
        Counts serial;
        add_words(corpus, serial);
        // ANCHOR_END: main
        long total = 0;
        for (auto& [w, n] : merged) total += n;
        std::cout << "every word reduced by exactly one reducer: " << (disjoint ? "yes" : "no")
                  << "\ntotal " << total << " words, " << merged.size() << " distinct\n"
                  << "parallel result equals serial count: " << (merged == serial ? "yes" : "no")
                  << '\n';
        return ok && disjoint && merged == serial && total == kWords ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "mapreduce_example: " << e.what() << '\n';
        return 1;
    }
}
