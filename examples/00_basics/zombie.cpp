// zombie.cpp - a child that has exited but has not been waited for is a
// zombie: its memory is gone, but its process-table entry (PID, exit status,
// CPU times) stays until the parent reaps it with wait*(). Python's
// multiprocessing reaps for you in join() and, lazily, whenever you start a new
// Process; in C++ reaping is your job.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Field 3 of /proc/<pid>/stat: R running, S sleeping, Z zombie, ...
// ("?" if there is no such process any more.)
char proc_state(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return '?';
    // The command name (field 2) is in parentheses and may contain spaces.
    const auto close = line.rfind(')');
    return (close != std::string::npos && close + 2 < line.size()) ? line[close + 2] : '?';
}

pid_t fork_child_that_exits_at_once() {
    std::cout.flush();
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) _exit(7);
    return pid;
}

// Wait until the child has exited, but leave it unreaped (WNOWAIT).
void wait_for_exit_without_reaping(pid_t pid) {
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) == -1) {
        if (errno != EINTR) check(-1, "waitid");
    }
}

bool zombie_until_reaped() {
    const pid_t pid = fork_child_that_exits_at_once();
    wait_for_exit_without_reaping(pid);
    const char before = proc_state(pid);
    std::cout << "child has exited, not yet reaped: state in /proc/<pid>/stat = " << before
              << (before == 'Z' ? " (zombie)" : "") << '\n';

    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");  // reap: read the status, free the entry
    const char after = proc_state(pid);
    std::cout << "after waitpid: exit status " << WEXITSTATUS(status)
              << " collected, /proc/<pid> "
              << (after == '?' ? "no longer exists" : "still exists") << '\n';
    return before == 'Z' && after == '?' && WEXITSTATUS(status) == 7;
}

// Ignoring SIGCHLD tells the kernel "I will never wait": children are then
// reaped automatically, and their exit status is thrown away.
bool auto_reap_with_sig_ign() {
    struct sigaction ignore{}, old{};
    ignore.sa_handler = SIG_IGN;
    check(::sigaction(SIGCHLD, &ignore, &old), "sigaction");

    const pid_t pid = fork_child_that_exits_at_once();
    // waitpid now blocks until the child is gone, then fails with ECHILD.
    int status = 0;
    const int rc = ::waitpid(pid, &status, 0);
    const int err = errno;
    check(::sigaction(SIGCHLD, &old, nullptr), "sigaction");  // back to the default
    std::cout << "with SIGCHLD ignored: waitpid -> "
              << (rc == -1 && err == ECHILD ? "ECHILD" : "a status") << ", /proc/<pid> "
              << (proc_state(pid) == '?' ? "gone" : "present")
              << ": the kernel reaped it, the exit status is lost\n";
    return rc == -1 && err == ECHILD && proc_state(pid) == '?';
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const bool a = zombie_until_reaped();
        const bool b = auto_reap_with_sig_ign();
        std::cout << (a ? "ok" : "FAILED")
                  << ": an exited child stays a zombie until its parent waits\n"
                  << (b ? "ok" : "FAILED")
                  << ": with SIGCHLD set to SIG_IGN no zombie is left\n";
        return (a && b) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
