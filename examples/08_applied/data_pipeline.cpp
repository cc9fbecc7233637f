// data_pipeline.cpp - exercise solution: a data pipeline with per-stage metrics.
//
//   read --> preprocess --> features (3 processes) --> aggregate (the parent)
//
// Each stage is a process (the feature stage is three), connected by packet-mode
// pipes. Every stage measures itself - items in and out, records dropped, time spent
// working, time spent waiting for input and for room downstream - into a table in
// shared memory, and the parent prints it at the end. The waits tell the story: the
// stages before the bottleneck wait to write, the stages after it wait to read.
#include "plumbing.hpp"  // check, Fd, Pipe, ChildGroup, start, send, receive

#include <sys/mman.h>

#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <climits>
#include <cmath>
#include <new>
#include <string_view>
#include <thread>

namespace {

constexpr int kRecords = 2000;
constexpr int kSensors = 4;
constexpr int kFeatureWorkers = 3;
constexpr auto kFeatureCost = std::chrono::microseconds(300);   // the expensive step

// ---- metrics ---------------------------------------------------------------------
enum Stage { kRead, kPreprocess, kFeatures, kAggregate, kStages };
const char* const kStageNames[kStages] = {"read", "preprocess", "features", "aggregate"};
const int kStageProcs[kStages] = {1, 1, kFeatureWorkers, 1};

/// One row of the metrics table; atomics because three feature workers share a row.
struct StageMetrics {
    std::atomic<long> in{0}, out{0}, dropped{0};
    std::atomic<long> busy_us{0}, wait_in_us{0}, wait_out_us{0};
};
struct Metrics { StageMetrics stage[kStages]; };
// Metrics live in MAP_SHARED memory. A lock-free atomic is plain memory plus atomic
// instructions, so it works across processes; one that is not would hide a lock that
// is private to each process. Make the compiler prove it.
static_assert(std::atomic<long>::is_always_lock_free);

using Clock = std::chrono::steady_clock;
long us_since(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t).count();
}

/// send/receive (plumbing.hpp) that charge the time spent blocked to the stage's
/// wait counters.
template <class T>
void send(int fd, const T& record, StageMetrics& m) {
    const auto t = Clock::now();
    ::send(fd, record);
    m.wait_out_us += us_since(t);
    ++m.out;
}
template <class T>
bool receive(int fd, T& record, StageMetrics& m) {
    const auto t = Clock::now();
    const bool got = ::receive(fd, record);
    m.wait_in_us += us_since(t);
    m.in += got;
    return got;
}

// ---- the data and the work of each stage -----------------------------------------
struct RawLine { char text[40]; };                     // what the reader produces
struct Reading { int sensor; int seq; double value; };  // after preprocessing
struct Features { int sensor; int seq; double value; long score; };
static_assert(sizeof(Features) <= PIPE_BUF);

/// Sensor readings as text; every 50th line is garbage, as real input has.
RawLine make_line(int i) {
    RawLine r{};
    if (i % 50 == 49) std::snprintf(r.text, sizeof r.text, "s%d,??,n/a", i % kSensors);
    else std::snprintf(r.text, sizeof r.text, "s%d,%d,%d.%d", i % kSensors, i, 20 + i % 13, i % 10);
    return r;
}

/// Parse "s<sensor>,<seq>,<value>"; false for anything malformed.
bool parse(std::string_view s, Reading& r) {
    if (s.size() < 2 || s[0] != 's') return false;
    auto [p1, e1] = std::from_chars(s.data() + 1, s.data() + s.size(), r.sensor);
    if (e1 != std::errc() || p1 == s.data() + s.size() || *p1 != ',') return false;
    auto [p2, e2] = std::from_chars(p1 + 1, s.data() + s.size(), r.seq);
    if (e2 != std::errc() || p2 == s.data() + s.size() || *p2 != ',') return false;
    auto [p3, e3] = std::from_chars(p2 + 1, s.data() + s.size(), r.value);
    return e3 == std::errc() && p3 == s.data() + s.size() && r.sensor >= 0 && r.sensor < kSensors;
}

long score(double value) {   // the "feature": deterministic, so it can be checked
    return std::lround(value * value * 10);
}

void stage_read(int out, StageMetrics& m) {
    for (int i = 0; i < kRecords; ++i) {
        const auto t = Clock::now();
        RawLine line = make_line(i);
        m.busy_us += us_since(t);
        send(out, line, m);
    }
}

void stage_preprocess(int in, int out, StageMetrics& m) {
    for (RawLine line; receive(in, line, m);) {
        const auto t = Clock::now();
        Reading r{};
        const bool good = parse(line.text, r);
        m.busy_us += us_since(t);
        if (good) send(out, r, m);
        else ++m.dropped;
    }
}

void stage_features(int in, int out, StageMetrics& m) {
    for (Reading r; receive(in, r, m);) {
        const auto t = Clock::now();
        std::this_thread::sleep_for(kFeatureCost);   // stands for real feature extraction
        Features f{r.sensor, r.seq, r.value, score(r.value)};
        m.busy_us += us_since(t);
        send(out, f, m);
    }
}

void print_metrics(const Metrics& m, long total_us) {
    std::printf("%-10s %5s %5s %5s %7s %8s %8s %9s\n", "stage", "procs", "in", "out", "dropped",
                "busy ms", "wait-in", "wait-out");
    for (int s = 0; s < kStages; ++s) {
        const StageMetrics& x = m.stage[s];
        std::printf("%-10s %5d %5ld %5ld %7ld %8.1f %8.1f %9.1f\n", kStageNames[s], kStageProcs[s],
                    x.in.load(), x.out.load(), x.dropped.load(), x.busy_us / 1e3,
                    x.wait_in_us / 1e3, x.wait_out_us / 1e3);
    }
    std::printf("(busy and wait times are summed over the processes of a stage; "
                "wall time %.1f ms)\n", total_us / 1e3);
}

}  // namespace

int run() {
    // ANCHOR: main
    void* mem = mmap(nullptr, sizeof(Metrics), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) check(-1, "mmap");
    struct Unmap { void* p; ~Unmap() { munmap(p, sizeof(Metrics)); } } unmap{mem};
    Metrics& metrics = *new (mem) Metrics{};

    std::cout << "pipeline: read -> preprocess -> features x" << kFeatureWorkers
              << " -> aggregate, " << kRecords << " sensor records\n";
    const auto t0 = Clock::now();
    Pipe raw(O_DIRECT), clean(O_DIRECT), done(O_DIRECT);  // packet mode: see plumbing.hpp
    ChildGroup children;
    children.add(start({&raw.read, &clean.read, &clean.write, &done.read, &done.write},
                         [&] { stage_read(raw.write.get(), metrics.stage[kRead]); }));
    children.add(start({&raw.write, &clean.read, &done.read, &done.write}, [&] {
        stage_preprocess(raw.read.get(), clean.write.get(), metrics.stage[kPreprocess]);
    }));
    for (int w = 0; w < kFeatureWorkers; ++w)
        children.add(start({&raw.read, &raw.write, &clean.write, &done.read}, [&] {
            stage_features(clean.read.get(), done.write.get(), metrics.stage[kFeatures]);
        }));
    raw.read.close(); raw.write.close(); clean.read.close(); clean.write.close(); done.write.close();
    // ANCHOR_END: main

    // Aggregate: per-sensor count and total score.
    std::array<long, kSensors> count{}, total{};
    StageMetrics& agg = metrics.stage[kAggregate];
    for (Features f; receive(done.read.get(), f, agg);) {
        const auto t = Clock::now();
        ++count[f.sensor];
        total[f.sensor] += f.score;
        agg.busy_us += us_since(t);
    }
    const long wall_us = us_since(t0);
    bool ok = children.wait_all();
    print_metrics(metrics, wall_us);

    // Check the metrics add up and the answer is right.
    const StageMetrics* s = metrics.stage;
    const bool flow = s[kRead].out == kRecords && s[kPreprocess].in == s[kRead].out &&
                      s[kPreprocess].out + s[kPreprocess].dropped == s[kPreprocess].in &&
                      s[kFeatures].in == s[kPreprocess].out && s[kFeatures].out == s[kFeatures].in &&
                      s[kAggregate].in == s[kFeatures].out;
    std::cout << "every record accounted for (in = out + dropped at each stage): "
              << (flow ? "yes" : "no") << '\n';
    std::array<long, kSensors> want_count{}, want_total{};
    for (int i = 0; i < kRecords; ++i) {
        Reading r{};
        if (parse(make_line(i).text, r)) { ++want_count[r.sensor]; want_total[r.sensor] += score(r.value); }
    }
    const bool right = count == want_count && total == want_total;
    for (int k = 0; k < kSensors; ++k)
        std::cout << "sensor s" << k << ": " << count[k] << " readings, total score " << total[k] << '\n';
    std::cout << "aggregates equal a serial run: " << (right ? "yes" : "no") << '\n';

    // The bottleneck: the stage with the most busy time per process.
    int bottleneck = 0;
    for (int k = 1; k < kStages; ++k)
        if (s[k].busy_us / kStageProcs[k] > s[bottleneck].busy_us / kStageProcs[bottleneck]) bottleneck = k;
    const bool pressure = s[kPreprocess].wait_out_us > s[kPreprocess].busy_us;
    // Which stage is slowest, and by how much, are timings: reported, not enforced.
    std::cout << "bottleneck: " << kStageNames[bottleneck] << " (most busy time per process)\n"
              << "preprocess waited to write longer than it worked (back-pressure): "
              << (pressure ? "yes" : "not on this run") << '\n';
    return ok && flow && right ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "data_pipeline: " << e.what() << '\n';
        return 1;
    }
}
