// word_count_map.cpp - the map half of MapReduce: four children count a share
// of the words each and send their counts back; the parent merges them (the
// reduce, in one process). Python: pool.map(count_words, chunks), then sum().
#include <deque>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "pattern.hpp"  // check, Pipe, Child, send/receive, run_main
#include "words.hpp"    // make_words: the same words every run

constexpr int kMappers = 4, kWords = 300'000;
using Counts = std::unordered_map<std::string, long>;  // Python's Counter

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
    return run_main("word_count_map", argc, argv, [] {
        const std::vector<std::string> words = make_words(kWords);  // shared copy-on-write
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
    });
}
