// mapreduce_example.cpp - the shuffle: each of 4 mappers counts its share of the
// words and sends each (word, count) to reducer fnv1a(word) % 3, so all the counts
// of one word, from any mapper, meet at one reducer. Each reducer has one pipe,
// written by every mapper (fan-in). Python: pool.map, then a parallel merge.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <deque>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

constexpr int kMappers = 4, kReducers = 3, kWords = 300'000;
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

// 24 bytes, one write() each (at most PIPE_BUF): records from several writers
// sharing a pipe never interleave, and a read() of 24 bytes returns one record.
struct Pair { char word[12]; int reducer; long count; };
void send(int fd, const std::string& word, int reducer, long count) {
    Pair p{{}, reducer, count};
    word.copy(p.word, sizeof p.word - 1);  // the words are short: "w0" to "w498"
    check(static_cast<int>(::write(fd, &p, sizeof p)), "write");
}
bool receive(int fd, Pair& p) {  // false at end-of-file: every writer has closed it
    const int n = check(static_cast<int>(::read(fd, &p, sizeof p)), "read");
    if (n != 0 && n != sizeof p) throw std::runtime_error("short read");
    return n != 0;
}

// FNV-1a: a fixed hash, so every mapper sends a word to the same reducer.
int partition_of(const std::string& word) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : word) h = (h ^ c) * 16777619u;
    return static_cast<int>(h % kReducers);
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
        std::cout << kWords << " words; " << kMappers << " mappers, " << kReducers
                  << " reducers, reducer = fnv1a(word) % " << kReducers << '\n';
        Pipe shuffle[kReducers], results;  // mappers -> reducer r; reducers -> parent
        std::deque<Child> children;        // a deque never moves them
        for (int m = 0; m < kMappers; ++m)
            children.emplace_back([&, m] {
                for (auto& p : shuffle) p.close(0);
                Counts counts;  // a "combiner": count here, send each word once
                for (int i = m; i < kWords; i += kMappers) ++counts[words[i]];
                for (auto& [w, n] : counts) send(shuffle[partition_of(w)].end[1], w, -1, n);
            });
        for (int r = 0; r < kReducers; ++r)
            children.emplace_back([&, r] {
                for (int i = 0; i < kReducers; ++i) {  // keep only our read end: EOF
                    shuffle[i].close(1);  // comes when the mappers are done, and if we die,
                    if (i != r) shuffle[i].close(0);  // a mapper writing to us gets EPIPE
                }
                Counts counts;
                for (Pair p; receive(shuffle[r].end[0], p);) counts[p.word] += p.count;
                for (auto& [w, n] : counts) send(results.end[1], w, r, n);
            });
        for (auto& p : shuffle) p.close(0), p.close(1);
        results.close(1);  // ours closed: end-of-file once every reducer is done

        // Reducers own disjoint sets of words: merging is concatenation. Check it.
        Counts merged;
        std::vector<int> owned(kReducers);
        bool disjoint = true;
        for (Pair p; receive(results.end[0], p);) {
            ++owned.at(p.reducer);
            disjoint = merged.emplace(p.word, p.count).second && disjoint;
        }
        bool ok = true;
        for (auto& c : children) ok = c.wait() && ok;
        long total = 0;
        for (auto& [w, n] : merged) total += n;
        Counts serial;
        for (auto& w : words) ++serial[w];
        for (int r = 0; r < kReducers; ++r)
            std::cout << "reducer " << r << " owns " << owned[r] << " words\n";
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
