// mapreduce_example.cpp - the shuffle: each of 4 mappers counts its share of the
// words and sends each (word, count) to reducer fnv1a(word) % 3, so all the counts
// of one word, from any mapper, meet at one reducer. Each reducer has one pipe,
// written by every mapper (fan-in). Python: pool.map, then a parallel merge.
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "pattern.hpp"  // check, Pipe, Child, send/receive, run_main
#include "words.hpp"    // make_words: the same words every run

constexpr int kMappers = 4, kReducers = 3, kWords = 300'000;
using Counts = std::unordered_map<std::string, long>;  // Python's Counter

// 24 bytes, one write() each (at most PIPE_BUF): records from several writers
// sharing a pipe never interleave, and a read() of 24 bytes returns one record.
struct Pair { char word[12]; int reducer; long count; };
Pair pair(const std::string& word, int reducer, long count) {
    Pair p{{}, reducer, count};
    word.copy(p.word, sizeof p.word - 1);  // the words are short: "w0" to "w498"
    return p;
}

// FNV-1a: a fixed hash, so every mapper sends a word to the same reducer.
int partition_of(const std::string& word) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : word) h = (h ^ c) * 16777619u;
    return static_cast<int>(h % kReducers);
}

int main(int argc, char* argv[]) {
    return run_main("mapreduce_example", argc, argv, [] {
        const std::vector<std::string> words = make_words(kWords);  // shared copy-on-write
        std::cout << kWords << " words; " << kMappers << " mappers, " << kReducers
                  << " reducers, reducer = fnv1a(word) % " << kReducers << '\n';
        Pipe shuffle[kReducers], results;  // mappers -> reducer r; reducers -> parent
        std::deque<Child> children;        // a deque never moves them
        for (int m = 0; m < kMappers; ++m)
            children.emplace_back([&, m] {
                for (auto& p : shuffle) p.close(0);
                Counts counts;  // a "combiner": count here, send each word once
                for (int i = m; i < kWords; i += kMappers) ++counts[words[i]];
                for (auto& [w, n] : counts) send(shuffle[partition_of(w)].end[1], pair(w, -1, n));
            });
        for (int r = 0; r < kReducers; ++r)
            children.emplace_back([&, r] {
                for (int i = 0; i < kReducers; ++i) {  // keep only our read end: EOF
                    shuffle[i].close(1);  // comes when the mappers are done, and if we die,
                    if (i != r) shuffle[i].close(0);  // a mapper writing to us gets EPIPE
                }
                Counts counts;
                for (Pair p; receive(shuffle[r].end[0], p);) counts[p.word] += p.count;
                for (auto& [w, n] : counts) send(results.end[1], pair(w, r, n));
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
    });
}
