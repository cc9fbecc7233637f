// Results of every size for the pool's tests (test_pool_defects, test_pool_python):
// their content depends on n, so a result spliced from two others, or another task's
// result, is never equal to the right one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

inline std::string text_of_size(std::int64_t n)
{
    std::string s(static_cast<std::size_t>(n), 'a');
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>('a' + (i * 7 + n) % 26);
    return s;
}

inline std::vector<std::int64_t> numbers_of_count(std::int64_t n)
{
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = n * 1000 + static_cast<std::int64_t>(i);
    return v;
}
