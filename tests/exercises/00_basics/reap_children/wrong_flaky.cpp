// reap_children (WRONG on purpose: fails one run in
// five, as a race would; here the 5th, counted in a file in the working directory,
// so that the test of the checker's repeats is deterministic) - start four children, each
// ending with its own exit code, then reap every one of them and print the code
// it reported. Python: Process.join() on each, then Process.exitcode.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <system_error>

namespace {

constexpr int kChildren = 4;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// Our children not yet reaped, zombies included: the kernel's own list.
int unreaped_children() {
    std::ifstream list("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    int count = 0;
    for (std::string pid; list >> pid;) ++count;
    return count;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Child children[kChildren];
        std::cout.flush();  // the children must not inherit unprinted output
        for (int i = 0; i < kChildren; ++i) {
            children[i].pid = check(::fork(), "fork");
            if (children[i].pid == 0) {
                ::usleep(10000 * (kChildren - i));  // end in reverse order
                _exit(10 + i);  // the code this child reports
            }
        }
        for (int reaped = 0; reaped < kChildren; ++reaped) {
            int status = 0;
            const pid_t pid = check(::waitpid(-1, &status, 0), "waitpid");  // any child
            for (int i = 0; i < kChildren; ++i) {
                if (children[i].pid != pid) continue;
                children[i].pid = -1;  // reaped: the PID may be reused now
                std::cout << "child " << i << " exited with status "
                          << WEXITSTATUS(status) << '\n';  // not the raw status word
            }
        }
        long runs = 0;
        { std::ifstream in("runs.txt"); in >> runs; }
        { std::ofstream("runs.txt") << ++runs; }
        std::cout << "children left unreaped: " << unreaped_children() + (runs == 5) << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "reap_children: " << e.what() << '\n';
        return 1;
    }
}
