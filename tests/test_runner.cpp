// The runner (tools/runner.py) against real misbehaving processes: it must capture
// output in order, and fail — with a clear message — any program that leaves a
// process, a shared-memory object or a message queue behind, or runs too long.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;
namespace fs = std::filesystem;

namespace {

struct Result {
    int status = -1;       // exit status of the runner
    std::string stderr_text;
    std::string output;    // PREFIX.txt: what the program printed
    std::string report;    // PREFIX.json
};

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs `runner.py --out PREFIX [extra...] -- fixture mode` and collects everything.
Result run_runner(const std::string& mode, std::vector<std::string> extra = {}) {
    const fs::path dir = fs::temp_directory_path() / ("runner-test-" + std::to_string(getpid()));
    fs::create_directories(dir);
    const fs::path prefix = dir / mode, err = dir / (mode + ".stderr");
    std::vector<std::string> args = {TUTORIAL_PYTHON, TUTORIAL_RUNNER, "--out", prefix.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.insert(args.end(), {"--", RUNNER_FIXTURE, mode});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    Result r{WEXITSTATUS(status), slurp(err), slurp(prefix.string() + ".txt"),
             slurp(prefix.string() + ".json")};
    fs::remove_all(dir);
    return r;
}

bool alive(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace

TEST_CASE("a well-behaved program passes and its output is captured") {
    auto r = run_runner("ok");
    CHECK(r.status == 0);
    CHECK(r.output == "all good\n");
    CHECK(r.report.find("\"exit_status\": 0") != std::string::npos);
    CHECK(r.report.find("\"ok\": true") != std::string::npos);
}

TEST_CASE("stdout and stderr are captured in the order they were written") {
    auto r = run_runner("interleave");
    CHECK(r.status == 0);
    CHECK(r.output == "out 1\nerr 2\nout 3\n");
}

TEST_CASE("a process left running fails the program and is killed") {
    auto r = run_runner("orphan");
    CHECK(r.status == 1);
    CHECK(r.stderr_text.find("left a process running") != std::string::npos);
    pid_t orphan = std::stoi(r.output.substr(r.output.find(' ') + 1));
    CHECK_FALSE(alive(orphan));
}

TEST_CASE("a shared-memory object left in /dev/shm fails the program and is removed") {
    auto r = run_runner("shm");
    CHECK(r.status == 1);
    CHECK(r.stderr_text.find("left /dev/shm/runner_fixture_leak behind") != std::string::npos);
    CHECK_FALSE(fs::exists("/dev/shm/runner_fixture_leak"));
}

TEST_CASE("a System V segment left behind fails the program") {
    auto r = run_runner("sysv");
    CHECK(r.status == 1);
    CHECK(r.stderr_text.find("left a System V shared memory segment behind (key 0x52554e31")
          != std::string::npos);
}

TEST_CASE("a message queue left behind fails the program") {
    auto r = run_runner("mqueue");
    CHECK(r.status == 1);
    CHECK(r.stderr_text.find("runner_fixture_mq behind") != std::string::npos);
}

TEST_CASE("a program that runs too long is killed with its whole tree") {
    auto r = run_runner("hang", {"--timeout", "1"});
    CHECK(r.status == 1);
    CHECK(r.stderr_text.find("timed out after 1 s") != std::string::npos);
    CHECK(r.report.find("\"signal\": \"SIGKILL\"") != std::string::npos);
    // Both the parent and its child printed their PIDs; neither may survive.
    std::istringstream lines(r.output);
    std::string who;
    pid_t pid;
    int seen = 0;
    while (lines >> who >> pid) {
        CHECK_FALSE(alive(pid));
        ++seen;
    }
    CHECK(seen == 2);
}

TEST_CASE("--skip-exit: a program that cannot run here is reported SKIPPED, not passed") {
    const fs::path spec = fs::temp_directory_path() / ("runner-skip-" + std::to_string(getpid()));
    std::ofstream(spec) << "= the real output\n";
    auto skipped = run_runner("skip", {"--expect", spec.string(), "--skip-exit", "77"});
    CHECK(skipped.status == 0);
    CHECK(skipped.stderr_text.find("SKIPPED") == 0);
    CHECK(skipped.stderr_text.find("no network namespaces here") != std::string::npos);
    CHECK(skipped.report.find("\"skipped\": true") != std::string::npos);
    // The same exit without --skip-exit, or another exit with it, is judged as usual.
    CHECK(run_runner("skip", {"--expect", spec.string()}).status == 1);
    CHECK(run_runner("ok", {"--expect", spec.string(), "--skip-exit", "77"}).status == 1);
    fs::remove(spec);
}

TEST_CASE("the .expect patterns decide, with a readable explanation") {
    const fs::path spec = fs::temp_directory_path() / ("runner-spec-" + std::to_string(getpid()));
    SECTION("a matching spec passes") {
        std::ofstream(spec) << "~ all (good|bad)\n";
        CHECK(run_runner("ok", {"--expect", spec.string()}).status == 0);
    }
    SECTION("a mismatch fails and says what was expected and what came") {
        std::ofstream(spec) << "= all bad\n";
        auto r = run_runner("ok", {"--expect", spec.string()});
        CHECK(r.status == 1);
        CHECK(r.stderr_text.find("expected: = all bad") != std::string::npos);
        CHECK(r.stderr_text.find("got:      'all good'") != std::string::npos);
    }
    SECTION("an expected signal is checked") {
        std::ofstream(spec) << "signal SIGABRT\n= about to abort\n";
        CHECK(run_runner("abort", {"--expect", spec.string()}).status == 0);
        std::ofstream(spec) << "= about to abort\n";
        auto r = run_runner("abort", {"--expect", spec.string()});
        CHECK(r.status == 1);
        CHECK(r.stderr_text.find("expected exit 0, got signal SIGABRT") != std::string::npos);
    }
    SECTION("a spec that cannot fail is rejected") {
        std::ofstream(spec) << "...\n";
        auto r = run_runner("ok", {"--expect", spec.string()});
        CHECK(r.status == 2);
        CHECK(r.stderr_text.find("no pattern that could fail") != std::string::npos);
    }
    fs::remove(spec);
}
