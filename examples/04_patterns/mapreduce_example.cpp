// mapreduce_example.cpp - word count as MapReduce with processes and pipes.
//
//   corpus --split--> mapper 0..M-1 --(M x R pipes, "shuffle")--> reducer 0..R-1 --> parent
//
// map:     each mapper counts the words of its slice (a local "combiner").
// shuffle: the pair (word, count) goes to reducer hash(word) % R, so every
//          occurrence of a word, from any mapper, meets at the same reducer.
// reduce:  each reducer adds up the counts for the words it owns.
//
// Python: pool.map(count_words, chunks) and then merging Counter objects in the
// parent. Here the merge itself is parallel and the parent only concatenates.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

constexpr int kMappers = 4;
constexpr int kReducers = 3;
constexpr int kVocabulary = 500;
constexpr int kCorpusWords = 300'000;

using Counts = std::unordered_map<std::string, long>;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}
long check(long rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// Owns forked children. wait_all() reaps them and says whether all exited with 0;
/// the destructor kills and reaps any still running (early return, exception).
class ChildGroup {
public:
    ChildGroup() = default;
    ChildGroup(const ChildGroup&) = delete;
    ChildGroup& operator=(const ChildGroup&) = delete;
    ~ChildGroup() {
        for (pid_t pid : pids_) { kill(pid, SIGKILL); waitpid(pid, nullptr, 0); }
    }
    void add(pid_t pid) { pids_.push_back(pid); }
    bool wait_all() {
        bool ok = true;
        for (pid_t pid : pids_) {
            int status;
            check(waitpid(pid, &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return ok;
    }
private:
    std::vector<pid_t> pids_;
};

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { close(); }
    int get() const noexcept { return fd_; }
    void close() noexcept { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};
struct Pipe {
    Fd read, write;
    Pipe() {
        int fds[2];
        check(pipe2(fds, O_CLOEXEC), "pipe2");
        read = Fd(fds[0]);
        write = Fd(fds[1]);
    }
};

/// A word list with a Zipf-like frequency (word k is about 1/(k+1) as common as
/// word 0), built with integer arithmetic from a fixed seed: the same on every run.
std::string make_corpus() {
    const char* common[] = {"the", "of", "and", "to", "process", "a", "in", "pipe"};
    const char* syllables[] = {"ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "vu"};
    std::vector<std::string> vocab(std::begin(common), std::end(common));
    for (int k = static_cast<int>(vocab.size()); k < kVocabulary; ++k) {
        std::string w;
        for (int n = k; n > 0; n /= 10) w += syllables[n % 10];
        vocab.push_back(w);
    }
    std::vector<std::uint64_t> cumulative;
    std::uint64_t total = 0;
    for (int k = 0; k < kVocabulary; ++k) cumulative.push_back(total += 1'000'000 / (k + 1));
    std::mt19937 rng(2026);   // mt19937's output is fixed by the standard
    std::string corpus;
    for (int i = 0; i < kCorpusWords; ++i) {
        auto pick = std::upper_bound(cumulative.begin(), cumulative.end(), rng() % total);
        corpus += vocab[pick - cumulative.begin()];
        corpus += ' ';
    }
    return corpus;
}

/// Slice i of n, cut at spaces so that no word is split between two mappers.
std::string_view slice(std::string_view text, int i, int n) {
    auto cut = [&](int k) {
        std::size_t pos = text.size() * k / n;
        while (pos > 0 && pos < text.size() && text[pos - 1] != ' ') ++pos;
        return pos;
    };
    return text.substr(cut(i), cut(i + 1) - cut(i));
}

void count_words(std::string_view text, Counts& counts) {
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t end = text.find(' ', pos);
        if (end == std::string_view::npos) end = text.size();
        if (end > pos) ++counts[std::string(text.substr(pos, end - pos))];
        pos = end + 1;
    }
}

/// FNV-1a: a fixed hash, so every mapper sends a word to the same reducer.
/// (Python's hash() of a str is salted per interpreter - no good across machines.)
int partition_of(std::string_view word) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : word) h = (h ^ c) * 16777619u;
    return static_cast<int>(h % kReducers);
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        long n = write(fd, data.data(), data.size());
        if (n == -1 && errno == EINTR) continue;
        data.remove_prefix(static_cast<std::size_t>(check(n, "write")));
    }
}

/// Map + shuffle: count locally, then send "word count\n" lines to the owner.
void mapper(std::string_view text, std::vector<int> out_fds) {
    Counts counts;
    count_words(text, counts);
    std::vector<std::string> partitions(kReducers);
    for (auto& [word, n] : counts)
        partitions[partition_of(word)] += word + ' ' + std::to_string(n) + '\n';
    for (int r = 0; r < kReducers; ++r) write_all(out_fds[r], partitions[r]);
}

/// Parse "word count\n" lines; a line may be cut between two reads, so keep the rest.
void absorb(std::string& pending, Counts& counts, long& pairs) {
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::istringstream line(pending.substr(start, nl - start));
        std::string word;
        long n = 0;
        line >> word >> n;
        counts[word] += n;
        ++pairs;
    }
    pending.erase(0, start);
}

/// Reduce: read all M inputs at once with poll(), so no mapper is left blocked on a
/// full pipe while we wait for another one; then report the totals.
void reducer(std::vector<int> in_fds, int out_fd) {
    Counts counts;
    long pairs = 0;
    std::vector<pollfd> fds;
    for (int fd : in_fds) fds.push_back({fd, POLLIN, 0});
    std::vector<std::string> pending(fds.size());
    for (std::size_t open = fds.size(); open > 0;) {
        if (poll(fds.data(), fds.size(), -1) == -1) {
            if (errno == EINTR) continue;
            die("poll");
        }
        for (std::size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char buf[4096];
            long n = check(read(fds[i].fd, buf, sizeof buf), "read");
            if (n == 0) { fds[i].fd = -1; --open; continue; }   // that mapper is done
            pending[i].append(buf, static_cast<std::size_t>(n));
            absorb(pending[i], counts, pairs);
        }
    }
    std::string report = "#pairs " + std::to_string(pairs) + '\n';
    for (auto& [word, n] : counts) report += word + ' ' + std::to_string(n) + '\n';
    write_all(out_fd, report);
}

/// Fork a child that keeps only the descriptors in `keep` open and runs `body`.
template <class F>
pid_t spawn(std::vector<Fd*> all, std::vector<int> keep, F body) {
    std::cout.flush();
    pid_t pid = static_cast<pid_t>(check(fork(), "fork"));
    if (pid == 0) {
        for (Fd* fd : all)   // pipes reach EOF only when every other writer is closed
            if (std::find(keep.begin(), keep.end(), fd->get()) == keep.end()) fd->close();
        body();
        _exit(0);
    }
    return pid;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
        .count();
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    const std::string corpus = make_corpus();   // forked children share it copy-on-write
    std::cout << "corpus: " << kCorpusWords << " words from a fixed seed; " << kMappers
              << " mappers, " << kReducers << " reducers, reducer = fnv1a(word) % "
              << kReducers << '\n';

    const auto t0 = std::chrono::steady_clock::now();
    std::vector<Pipe> shuffle(kMappers * kReducers);   // shuffle[m * R + r]: mapper m -> reducer r
    std::vector<Pipe> results(kReducers);              // reducer r -> parent
    std::vector<Fd*> all;
    for (auto& p : shuffle) { all.push_back(&p.read); all.push_back(&p.write); }
    for (auto& p : results) { all.push_back(&p.read); all.push_back(&p.write); }

    ChildGroup children;
    for (int m = 0; m < kMappers; ++m) {
        std::vector<int> outs;
        for (int r = 0; r < kReducers; ++r) outs.push_back(shuffle[m * kReducers + r].write.get());
        children.add(spawn(all, outs, [&, m, outs] { mapper(slice(corpus, m, kMappers), outs); }));
    }
    for (int r = 0; r < kReducers; ++r) {
        std::vector<int> ins;
        for (int m = 0; m < kMappers; ++m) ins.push_back(shuffle[m * kReducers + r].read.get());
        std::vector<int> keep = ins;
        keep.push_back(results[r].write.get());
        int out = results[r].write.get();
        children.add(spawn(all, keep, [ins, out] { reducer(ins, out); }));
    }
    for (auto& p : shuffle) { p.read.close(); p.write.close(); }
    for (auto& p : results) p.write.close();

    // Collect: reducers own disjoint sets of words, so merging is concatenation;
    // we still check that no word came from two reducers.
    Counts merged;
    bool disjoint = true;
    for (int r = 0; r < kReducers; ++r) {
        std::string text;
        char buf[4096];
        for (long n; (n = check(read(results[r].read.get(), buf, sizeof buf), "read")) > 0;)
            text.append(buf, static_cast<std::size_t>(n));
        std::istringstream in(text);
        std::string tag;
        long pairs = 0, owned = 0;
        in >> tag >> pairs;
        std::string word;
        for (long n; in >> word >> n; ++owned)
            disjoint = merged.emplace(word, n).second && disjoint;
        std::cout << "reducer " << r << ": received " << pairs << " (word, count) pairs, owns "
                  << owned << " words\n";
    }
    const double parallel_ms = ms_since(t0);
    bool ok = children.wait_all();

    const auto t1 = std::chrono::steady_clock::now();
    Counts serial;
    count_words(corpus, serial);
    const double serial_ms = ms_since(t1);

    long total = 0;
    for (auto& [w, n] : merged) total += n;
    std::vector<std::pair<long, std::string>> top;
    for (auto& [w, n] : merged) top.emplace_back(-n, w);
    std::sort(top.begin(), top.end());
    const bool equal = merged == serial;
    std::cout << "every word reduced by exactly one reducer: " << (disjoint ? "yes" : "no") << '\n'
              << "total " << total << " words, " << merged.size() << " distinct\n"
              << "top 3:";
    for (int i = 0; i < 3; ++i) std::cout << ' ' << top[i].second << '=' << -top[i].first;
    std::cout << "\nparallel result equals serial count: " << (equal ? "yes" : "no") << '\n'
              << "parallel " << static_cast<long>(parallel_ms) << " ms ("
              << static_cast<long>(kCorpusWords / parallel_ms * 1000) << " words/s), serial "
              << static_cast<long>(serial_ms) << " ms\n";
    ok = ok && disjoint && equal && total == kCorpusWords;
    return ok ? 0 : 1;
}
