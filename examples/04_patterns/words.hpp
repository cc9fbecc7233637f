// ANCHOR: words
// words.hpp - the input of the MapReduce page's two programs, written once so
// both count the same text: n words from a fixed seed, so every run (and the
// serial check) sees the same ones, a few common and many rare, as in prose.
#pragma once
#include <random>
#include <string>
#include <vector>

inline std::vector<std::string> make_words(int n) {
    std::mt19937 rng(2026);
    std::vector<std::string> words;
    for (int i = 0; i < n; ++i) {  // the product of two uniform numbers favours small ones
        const unsigned a = rng() % 500, b = rng() % 500;
        words.push_back("w" + std::to_string(a * b / 500));  // "w0" to "w498"
    }
    return words;
}
// ANCHOR_END: words
