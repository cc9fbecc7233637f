// Chapter 5's supervisor (examples/05_advanced/supervisor.cpp), the real Supervisor
// class, on real worker processes: a crashing worker is restarted after a pause that
// doubles, a worker that fails at every start is given up after kMaxFailures, and a
// worker that succeeds is left alone. The supervisor's own event log (its stdout) is
// captured to check the order of events; the clock checks the pauses were waited.

// The example is one file with its own main(); include it under another name. Its
// classes live in an anonymous namespace, which this translation unit can see.
#define main supervisor_example_main
#include "../examples/05_advanced/supervisor.cpp"
#undef main

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <regex>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace {

// Catch2 handles SIGABRT (and more) in the test process to report a crash; the
// supervisor's workers are forks and would inherit that handler, so a deliberate
// abort() would print a bogus test failure. While the supervisor runs, the crash
// signals get their default action; Catch2's handlers come back afterwards.
class DefaultCrashSignals {
public:
    DefaultCrashSignals()
    {
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (std::size_t i = 0; i < std::size(signals_); ++i)
            REQUIRE(::sigaction(signals_[i], &dfl, &saved_[i]) == 0);
    }
    ~DefaultCrashSignals()
    {
        for (std::size_t i = 0; i < std::size(signals_); ++i) ::sigaction(signals_[i], &saved_[i], nullptr);
    }
    DefaultCrashSignals(const DefaultCrashSignals&) = delete;
    DefaultCrashSignals& operator=(const DefaultCrashSignals&) = delete;

private:
    static constexpr int signals_[] = {SIGINT, SIGILL, SIGFPE, SIGSEGV, SIGTERM, SIGABRT};
    struct sigaction saved_[std::size(signals_)] {};
};

// Everything written to stdout (file descriptor 1) between construction and text().
class CaptureStdout {
public:
    CaptureStdout()
    {
        std::fflush(stdout);
        file_ = std::tmpfile();
        REQUIRE(file_ != nullptr);
        saved_ = ::dup(1);
        REQUIRE(saved_ >= 0);
        // No Catch2 assertion from here on: with -s it would print into the capture.
        if (::dup2(::fileno(file_), 1) != 1) throw std::system_error(errno, std::generic_category(), "dup2");
    }
    std::string text()
    {
        restore();
        std::string out;
        std::rewind(file_);
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) out.append(buf, n);
        return out;
    }
    ~CaptureStdout()
    {
        restore();
        std::fclose(file_);
    }
    CaptureStdout(const CaptureStdout&) = delete;
    CaptureStdout& operator=(const CaptureStdout&) = delete;

private:
    void restore()
    {
        if (saved_ < 0) return;
        std::fflush(stdout);
        ::dup2(saved_, 1);
        ::close(saved_);
        saved_ = -1;
    }
    std::FILE* file_ = nullptr;
    int saved_ = -1;
};

// One line of the supervisor's log: "  crasher #2 crashed (SIGABRT): restart in 100 ms".
struct Event {
    std::string name;
    int start;          // which start of that worker (1, 2, ...)
    std::string what;   // the rest of the line
};

std::vector<Event> parse_log(const std::string& text)
{
    static const std::regex line_re(R"(  (\S+) #(\d+) (.*))");
    std::vector<Event> events;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, line_re)) events.push_back({m[1], std::stoi(m[2]), m[3]});
    }
    return events;
}

struct Run {
    std::vector<Worker> workers;   // the supervisor's final view of each worker
    std::vector<Event> events;
    std::string log;
    long long ms = 0;              // how long run() took
};

// Supervises `workers` until they have all finished or been given up on.
Run supervise(std::vector<Worker> workers)
{
    Run r;
    {
        DefaultCrashSignals plain_crashes;
        CaptureStdout capture;
        {
            Supervisor sup(std::move(workers));
            const auto t0 = std::chrono::steady_clock::now();
            sup.run();
            r.ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now() - t0).count();
            r.workers = sup.workers;
        }
        r.log = capture.text();
    }
    r.events = parse_log(r.log);
    return r;
}

// The events of one worker, in log order.
std::vector<Event> of(const std::vector<Event>& events, const std::string& name)
{
    std::vector<Event> out;
    for (const auto& e : events)
        if (e.name == name) out.push_back(e);
    return out;
}

// True when this process has no child at all, zombie or alive. WNOWAIT: look, do not reap.
bool no_child_left()
{
    siginfo_t info{};
    return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == -1 && errno == ECHILD;
}

// The process is gone and reaped (not even a zombie).
bool gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

long long pause_after(int failure) { return (kFirstBackoff * (1 << (failure - 1))).count(); }  // 50, 100, ...

[[noreturn]] void steady(int) { _exit(0); }

// The pauses before restarts 2..n of a worker that failed n-1 times: the run took at
// least their sum (logic, not speed: the supervisor must not start a worker early).
long long pauses_until(int failures)
{
    long long sum = 0;
    for (int k = 1; k <= failures; ++k) sum += pause_after(k);
    return sum;
}

}  // namespace

TEST_CASE("a crashing worker is restarted after a pause that doubles, until it succeeds")
{
    Run r = supervise({{"crasher", crashes_twice}});
    INFO("supervisor log:\n" << r.log);
    REQUIRE(r.workers.size() == 1);
    const Worker& w = r.workers[0];
    CHECK(w.state == Worker::Finished);
    CHECK(w.failures == 2);
    CHECK(w.starts == 3);
    CHECK(gone(w.pid));

    const auto ev = of(r.events, "crasher");
    const std::vector<std::pair<int, std::string>> expected{
        {1, "started"},
        {1, "crashed (SIGABRT): restart in " + std::to_string(pause_after(1)) + " ms"},
        {2, "started"},
        {2, "crashed (SIGABRT): restart in " + std::to_string(pause_after(2)) + " ms"},
        {3, "started"},
        {3, "finished"},
    };
    REQUIRE(ev.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        INFO("event " << i);
        CHECK(ev[i].start == expected[i].first);
        CHECK(ev[i].what == expected[i].second);
    }
    CHECK(r.ms >= pauses_until(2));   // both pauses were waited: 50 + 100 ms
    CHECK(no_child_left());
}

TEST_CASE("a worker that fails at every start is given up after kMaxFailures, not re-forked for ever")
{
    Run r = supervise({{"broken", fails_at_start}});
    INFO("supervisor log:\n" << r.log);
    REQUIRE(r.workers.size() == 1);
    const Worker& w = r.workers[0];
    CHECK(w.state == Worker::GaveUp);
    CHECK(w.failures == kMaxFailures);
    CHECK(w.starts == kMaxFailures);   // not started again after the last failure
    CHECK(gone(w.pid));

    const auto ev = of(r.events, "broken");
    REQUIRE(ev.size() == 2 * static_cast<std::size_t>(kMaxFailures));
    for (int k = 1; k <= kMaxFailures; ++k) {
        const Event& started = ev[2 * static_cast<std::size_t>(k - 1)];
        const Event& failed = ev[2 * static_cast<std::size_t>(k - 1) + 1];
        INFO("start " << k);
        CHECK(started.start == k);
        CHECK(started.what == "started");
        CHECK(failed.start == k);
        const std::string outcome = k < kMaxFailures
            ? "restart in " + std::to_string(pause_after(k)) + " ms"
            : std::string("giving up");
        CHECK(failed.what == "exited with code 1: " + outcome);
    }
    CHECK(r.ms >= pauses_until(kMaxFailures - 1));
    CHECK(no_child_left());
}

TEST_CASE("a steady worker is neither restarted nor counted as failed")
{
    Run r = supervise({{"steady", steady}});
    INFO("supervisor log:\n" << r.log);
    REQUIRE(r.workers.size() == 1);
    CHECK(r.workers[0].state == Worker::Finished);
    CHECK(r.workers[0].failures == 0);
    CHECK(r.workers[0].starts == 1);
    const auto ev = of(r.events, "steady");
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].what == "started");
    CHECK(ev[1].what == "finished");
    CHECK(no_child_left());
}

TEST_CASE("supervising all three at once: each worker's fate is independent of the others")
{
    Run r = supervise({{"steady", steady}, {"crasher", crashes_twice}, {"broken", fails_at_start}});
    INFO("supervisor log:\n" << r.log);
    REQUIRE(r.workers.size() == 3);
    CHECK(r.workers[0].state == Worker::Finished);
    CHECK(r.workers[0].starts == 1);
    CHECK(r.workers[0].failures == 0);
    CHECK(r.workers[1].state == Worker::Finished);
    CHECK(r.workers[1].starts == 3);
    CHECK(r.workers[1].failures == 2);
    CHECK(r.workers[2].state == Worker::GaveUp);
    CHECK(r.workers[2].starts == kMaxFailures);
    CHECK(r.workers[2].failures == kMaxFailures);
    CHECK(of(r.events, "steady").size() == 2);
    CHECK(of(r.events, "crasher").size() == 6);
    CHECK(of(r.events, "broken").size() == 2 * static_cast<std::size_t>(kMaxFailures));
    for (const auto& w : r.workers) CHECK(gone(w.pid));
    CHECK(no_child_left());
}
