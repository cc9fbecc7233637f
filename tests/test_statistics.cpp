// Chapter 8's data analyser (examples/08_applied/data_analyser.cpp and its
// statistics.hpp), its real functions: worker processes summarise chunks of a shared
// array with analyse_chunk(), the parent merges the summaries with merge() (Chan et
// al.'s merge of moments) and selects the median from the sorted chunks with
// kth_smallest(). The merged count, mean, variance, min, max and median equal a
// one-pass computation over the same data for every chunking, uneven ones and
// one-element chunks included; the seed's method (average_chunks(): the mean of the
// per-chunk standard deviations, the median of the chunk medians) does not.

// The example has its own main(); include it under another name. It includes
// statistics.hpp (the functions tested here) and keeps its constants in an anonymous
// namespace, which this translation unit can see.
#define main data_analyser_example_main
#include "../examples/08_applied/data_analyser.cpp"
#undef main

#include "process_helpers.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace {

// The example's data: 400 000 response times whose mean grows 10, 20, 30, 40 ms from
// quarter to quarter (fixed seed, so the same on every run).
std::vector<double> example_data(std::size_t n = kCount)
{
    std::vector<double> v(n);
    generate(v, kChunks);
    return v;
}

// The data copied into a MAP_SHARED mapping with one ChunkSummary slot per chunk; one
// forked child per chunk runs the example's analyse_chunk() on its part, as in the
// example's main(). Afterwards each chunk is sorted in the mapping.
class ParallelSummary {
public:
    ParallelSummary(std::span<const double> data, const std::vector<std::size_t>& sizes)
        : sizes_(sizes), map_(sizes.size() * sizeof(ChunkSummary) + data.size() * sizeof(double))
    {
        REQUIRE(std::accumulate(sizes.begin(), sizes.end(), std::size_t{0}) == data.size());
        // Zero bytes, as in the example: analyse_chunk() must reset its slot itself
        // (a zero min would be wrong for data that are all positive).
        summaries_ = static_cast<ChunkSummary*>(map_.p);
        data_ = reinterpret_cast<double*>(summaries_ + sizes.size());
        std::copy(data.begin(), data.end(), data_);

        first_.assign(sizes.size(), 0);
        for (std::size_t c = 1; c < sizes.size(); ++c) first_[c] = first_[c - 1] + sizes[c - 1];
        auto codes = test::run_children(static_cast<int>(sizes.size()), [&](int c) {
            const auto i = static_cast<std::size_t>(c);
            analyse_chunk(std::span(data_ + first_[i], sizes_[i]), summaries_[i]);
            return 0;
        });
        CHECK(codes == std::vector<int>(sizes.size(), 0));
    }

    std::span<const ChunkSummary> summaries() const { return {summaries_, sizes_.size()}; }
    /// The chunks, each sorted in place by its worker.
    std::vector<std::span<const double>> runs() const
    {
        std::vector<std::span<const double>> r;
        for (std::size_t c = 0; c < sizes_.size(); ++c) r.emplace_back(data_ + first_[c], sizes_[c]);
        return r;
    }

private:
    struct Mapping {   // anonymous MAP_SHARED memory: inherited by the forked workers
        explicit Mapping(std::size_t n) : bytes(n)
        {
            p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            REQUIRE(p != MAP_FAILED);
        }
        ~Mapping() { ::munmap(p, bytes); }
        Mapping(const Mapping&) = delete;
        Mapping& operator=(const Mapping&) = delete;
        std::size_t bytes;
        void* p;
    };
    std::vector<std::size_t> sizes_, first_;
    Mapping map_;
    ChunkSummary* summaries_ = nullptr;
    double* data_ = nullptr;
};

// The right reduction, as the example's main() does it: merge() the moments of every
// chunk; select the median from all sorted chunks with kth_smallest().
struct Merged {
    Moments moments;
    double median;
};

Merged merge_right(const ParallelSummary& ps, bool reverse_order = false)
{
    Merged m;
    auto s = ps.summaries();
    std::vector<ChunkSummary> order(s.begin(), s.end());
    if (reverse_order) std::reverse(order.begin(), order.end());
    for (const auto& cs : order) m.moments = merge(m.moments, cs.moments);
    const auto n = static_cast<std::size_t>(m.moments.n);
    const auto runs = ps.runs();
    m.median = n % 2 ? kth_smallest(runs, n / 2)
                     : (kth_smallest(runs, n / 2 - 1) + kth_smallest(runs, n / 2)) / 2;
    return m;
}

// The seed's reduction: plain averages of per-chunk results (the example's
// average_chunks()).
struct Seed {
    double mean, stddev, median;
};

Seed merge_seed(const ParallelSummary& ps)
{
    const Averaged a = average_chunks(ps.summaries());
    return {a.mean, a.stddev, a.median};
}

// The reference, computed over the whole data set at once, independently of the
// example: two-pass mean and sample variance in long double, median of a sorted copy.
struct Reference {
    std::size_t n;
    double mean, variance, min, max, median;
};

Reference reference(std::span<const double> data)
{
    Reference r{};
    r.n = data.size();
    long double sum = 0;
    for (double x : data) sum += x;
    const long double mean = sum / static_cast<long double>(r.n);
    long double ss = 0;
    for (double x : data) ss += (x - mean) * (x - mean);
    r.mean = static_cast<double>(mean);
    r.variance = static_cast<double>(ss / static_cast<long double>(r.n - 1));
    std::vector<double> sorted(data.begin(), data.end());
    std::sort(sorted.begin(), sorted.end());
    r.min = sorted.front();
    r.max = sorted.back();
    const std::size_t h = r.n / 2;
    r.median = r.n % 2 ? sorted[h] : (sorted[h - 1] + sorted[h]) / 2;
    return r;
}

// The example's own one-pass computation (Welford) over everything.
Moments one_pass(std::span<const double> data)
{
    Moments m;
    for (double x : data) m.add(x);
    return m;
}

std::string describe(const std::vector<std::size_t>& sizes)
{
    std::string s;
    for (auto n : sizes) s += (s.empty() ? "" : " + ") + std::to_string(n);
    return s + " (" + std::to_string(sizes.size()) + " chunks)";
}

// Merging chunk summaries gives what one pass over all the data gives.
void check_merge_equals_one_pass(std::span<const double> data, const std::vector<std::size_t>& sizes)
{
    INFO("chunks: " << describe(sizes));
    ParallelSummary ps(data, sizes);
    const Merged right = merge_right(ps);
    const Moments welford = one_pass(data);
    const Reference ref = reference(data);
    constexpr double rel = 1e-9;   // the example's own tolerance for mean and std

    CHECK(right.moments.n == static_cast<double>(ref.n));
    CHECK(right.moments.n == welford.n);
    CHECK(right.moments.mean == Approx(ref.mean).epsilon(rel));
    CHECK(right.moments.mean == Approx(welford.mean).epsilon(rel));
    CHECK(right.moments.m2 / (right.moments.n - 1) == Approx(ref.variance).epsilon(rel));
    CHECK(right.moments.m2 == Approx(welford.m2).epsilon(rel));
    CHECK(right.moments.stddev() == Approx(welford.stddev()).epsilon(rel));
    // min, max and median are selected, not computed: exactly equal.
    CHECK(right.moments.min == ref.min);
    CHECK(right.moments.max == ref.max);
    CHECK(right.median == ref.median);
    CHECK(welford.min == ref.min);
    CHECK(welford.max == ref.max);

    // The merge is order-independent (up to rounding).
    const Merged reversed = merge_right(ps, /*reverse_order=*/true);
    CHECK(reversed.moments.n == right.moments.n);
    CHECK(reversed.moments.mean == Approx(right.moments.mean).epsilon(rel));
    CHECK(reversed.moments.m2 == Approx(right.moments.m2).epsilon(rel));
    CHECK(reversed.median == right.median);
}

double relative_error(double value, double truth) { return std::fabs(value / truth - 1); }

}  // namespace

TEST_CASE("a small data set: the merged statistics are the textbook values")
{
    const std::vector<double> data{7, 1, 10, 4, 2, 9, 3, 8, 5, 6};   // 1..10, shuffled
    ParallelSummary ps(data, {1, 2, 7});
    const Merged m = merge_right(ps);
    CHECK(m.moments.n == 10);
    CHECK(m.moments.mean == Approx(5.5).epsilon(1e-12));
    CHECK(m.moments.m2 / 9 == Approx(55.0 / 6).epsilon(1e-12));   // sample variance of 1..10
    CHECK(m.moments.stddev() == Approx(std::sqrt(55.0 / 6)).epsilon(1e-12));
    CHECK(m.moments.min == 1);
    CHECK(m.moments.max == 10);
    CHECK(m.median == 5.5);
    // Each worker left its chunk sorted.
    for (auto run : ps.runs()) CHECK(std::is_sorted(run.begin(), run.end()));
    // Odd count: the median is the middle value itself.
    ParallelSummary odd(std::vector<double>{9, 2, 7, 4, 5}, {2, 1, 2});
    CHECK(merge_right(odd).median == 5);
}

TEST_CASE("merged chunk statistics equal one pass over the data, for any chunking")
{
    const auto data = example_data();   // 400 000 values
    SECTION("four equal chunks, as in the example") {
        check_merge_equals_one_pass(data, {100000, 100000, 100000, 100000});
    }
    SECTION("uneven chunks with a one-element chunk") {
        check_merge_equals_one_pass(data, {1, 150000, 49999, 200000});
    }
    SECTION("one-element chunks at both ends") {
        check_merge_equals_one_pass(data, {1, 399998, 1});
    }
    SECTION("seven chunks of very different sizes") {
        check_merge_equals_one_pass(data, {13, 57000, 1, 99999, 123456, 60000, 59531});
    }
    SECTION("a single chunk") {
        check_merge_equals_one_pass(data, {400000});
    }
    SECTION("an odd number of values (the median is one value, not a mean of two)") {
        std::span<const double> odd(data.data(), data.size() - 1);
        check_merge_equals_one_pass(odd, {3, 133332, 266664});
        check_merge_equals_one_pass(odd, {1, 1, 399997});
    }
}

TEST_CASE("the seed's method (averaging per-chunk std and median) is wrong")
{
    const auto data = example_data();
    const Reference ref = reference(data);
    const Moments welford = one_pass(data);

    SECTION("equal chunks: the mean survives, the std and the median do not") {
        ParallelSummary ps(data, {100000, 100000, 100000, 100000});
        const Seed seed = merge_seed(ps);
        const Merged right = merge_right(ps);
        INFO("one pass: std " << welford.stddev() << ", median " << ref.median);
        INFO("seed:     std " << seed.stddev << ", median " << seed.median);
        INFO("right:    std " << right.moments.stddev() << ", median " << right.median);
        // Equal chunks: the mean of the chunk means happens to be the mean.
        CHECK(seed.mean == Approx(ref.mean).epsilon(1e-9));
        // The spread between chunks is lost: the std is 15 % too small; the median of
        // medians is 17 % too large. Not a rounding error: more than 10 % off.
        CHECK(relative_error(seed.stddev, welford.stddev()) > 0.10);
        CHECK(relative_error(seed.median, ref.median) > 0.10);
        CHECK(seed.stddev < welford.stddev());
        // The numbers the example prints (6 significant digits).
        CHECK(welford.stddev() == Approx(29.5834).epsilon(1e-5));
        CHECK(seed.stddev == Approx(24.9837).epsilon(1e-5));
        CHECK(ref.median == Approx(14.9218).epsilon(1e-5));
        CHECK(seed.median == Approx(17.4015).epsilon(1e-5));
        // ...while the right merge has none of these errors.
        CHECK(right.moments.stddev() == Approx(welford.stddev()).epsilon(1e-9));
        CHECK(right.median == ref.median);
    }
    SECTION("uneven chunks: even the seed's mean is wrong") {
        ParallelSummary ps(data, {50000, 250000, 100000});
        const Seed seed = merge_seed(ps);
        const Merged right = merge_right(ps);
        INFO("one pass: mean " << ref.mean << ", seed: mean " << seed.mean);
        CHECK(relative_error(seed.mean, ref.mean) > 0.01);
        CHECK(relative_error(seed.stddev, welford.stddev()) > 0.01);
        CHECK(seed.median != ref.median);
        CHECK(right.moments.mean == Approx(ref.mean).epsilon(1e-9));
        CHECK(right.median == ref.median);
    }
}
