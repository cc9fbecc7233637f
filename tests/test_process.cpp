// Chapter 0 facts, checked on real processes: how a wait status encodes an exit or
// a signal (Python's exitcode), joining with a time-out through a pidfd, zombies.
#include <catch2/catch.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

// Python's Process.exitcode: the exit status, or minus the number of the signal.
int exitcode(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return 0;
}

template <class F>
pid_t spawn_child(F body) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        body();
        _exit(0);
    }
    return pid;
}

int wait_for(pid_t pid) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    return status;
}

char state_of(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close_paren = line.rfind(')');
    return close_paren == std::string::npos ? '?' : line.at(close_paren + 2);
}

}  // namespace

TEST_CASE("the wait status carries the exit code or the terminating signal") {
    CHECK(exitcode(wait_for(spawn_child([] { _exit(3); }))) == 3);
    CHECK(exitcode(wait_for(spawn_child([] { _exit(0); }))) == 0);
    CHECK(exitcode(wait_for(spawn_child([] { raise(SIGKILL); }))) == -SIGKILL);
    CHECK(exitcode(wait_for(spawn_child([] { std::abort(); }))) == -SIGABRT);

    pid_t sleeper = spawn_child([] { pause(); });
    REQUIRE(kill(sleeper, SIGTERM) == 0);     // Python's terminate()
    int status = wait_for(sleeper);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
}

TEST_CASE("join with a time-out: a pidfd becomes readable when the child ends") {
    pid_t child = spawn_child([] { pause(); });
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
    REQUIRE(pidfd >= 0);
    pollfd p{pidfd, POLLIN, 0};

    auto start = std::chrono::steady_clock::now();
    CHECK(poll(&p, 1, 100) == 0);             // still running: the join times out
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(90));

    REQUIRE(kill(child, SIGKILL) == 0);
    CHECK(poll(&p, 1, 5000) == 1);            // ended: the join returns
    CHECK(exitcode(wait_for(child)) == -SIGKILL);
    close(pidfd);
}

TEST_CASE("a child that has exited stays a zombie until it is reaped") {
    pid_t child = spawn_child([] { _exit(7); });
    int status = 0;
    // Wait without reaping (WNOWAIT), then look at it in /proc.
    siginfo_t info{};
    REQUIRE(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);
    CHECK(state_of(child) == 'Z');
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(exitcode(status) == 7);
    CHECK(state_of(child) == '?');            // gone from /proc once reaped
}
