// zombie.cpp - a child that has exited but has not been waited for is a
// zombie: its memory is gone, but its entry in the process table (PID, exit
// status, CPU times) stays until the parent reaps it with wait*(). Python's
// multiprocessing reaps for you; in C++ it is your job.
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

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Field 3 of /proc/<pid>/stat: R running, S sleeping, Z zombie; '?' if the
// process no longer exists.
char proc_state(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return '?';
    const auto paren = line.rfind(')');  // field 2, the name, may contain spaces
    const bool found = paren != std::string::npos && paren + 2 < line.size();
    return found ? line[paren + 2] : '?';
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) _exit(7);  // the child ends at once

        // Wait until it has exited, but leave it unreaped (WNOWAIT).
        siginfo_t info{};
        check(::waitid(P_PID, static_cast<id_t>(child.pid), &info, WEXITED | WNOWAIT),
              "waitid");
        const char before = proc_state(child.pid);
        std::cout << "the child has exited, not yet reaped: state " << before
                  << (before == 'Z' ? " ✓ a zombie" : " ✗") << '\n';

        int status = 0;
        // Reap: collect the status, and the kernel frees the entry.
#ifndef BREAK_NO_WAITPID  // "Break it" on the page: build with -DBREAK_NO_WAITPID
        check(::waitpid(child.pid, &status, 0), "waitpid");
#endif
        const char after = proc_state(child.pid);
        child.pid = -1;  // reaped: the PID may now be reused, never signal it again
        const bool gone = after == '?' && WIFEXITED(status) && WEXITSTATUS(status) == 7;
        std::cout << "after waitpid: exit status "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status))
                  << " collected, /proc/<pid> "
                  << (after == '?' ? "is gone" : "still exists")
                  << (gone ? " ✓" : " ✗") << '\n';
        return (before == 'Z' && gone) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "zombie: " << e.what() << '\n';
        return 1;
    }
}
