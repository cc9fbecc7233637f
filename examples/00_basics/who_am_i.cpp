// who_am_i.cpp - Py: current_process().name, parent_process(), active_children().
// A name the kernel knows (prctl(PR_SET_NAME), what ps and top show), getppid(),
// and the children still running: a pidfd each, polled; the finished ones reaped.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <fstream>
#include <iostream>
#include <string>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
// A child we own: its name, its pidfd; killed and reaped if we leave early.
struct Child {
    Child(pid_t p, std::string n) : pid(p), name(std::move(n)) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
    std::string name;
    Fd pidfd;
};

std::string comm(pid_t pid) {  // the name as ps shows it: /proc/PID/comm
    std::string s;
    std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/comm"), s);
    return s;
}
// The kernel's own list of our children (kernels built with CONFIG_PROC_CHILDREN).
int children_listed(pid_t pid) {
    const std::string p = std::to_string(pid);
    std::ifstream in("/proc/" + p + "/task/" + p + "/children");
    int n = 0;
    for (std::string s; in >> s;) ++n;
    return n;
}
// Py: child body. Name ourselves, check our parent, say "ready", maybe wait for "go".
int child_body(const std::string& name, pid_t parent, int ready, int go, bool wait) {
    check(::prctl(PR_SET_NAME, name.c_str()), "prctl");  // at most 15 characters
    if (::getppid() != parent) return 1;  // Py: parent_process().pid
    check(static_cast<int>(::write(ready, "!", 1)), "write");
    char c;
    return wait && ::read(go, &c, 1) == -1 ? 1 : 0;  // EOF: the parent is done with us
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int fds[4];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");  // children -> parent: "named"
        check(::pipe2(fds + 2, O_CLOEXEC), "pipe2");  // parent -> children: EOF = go
        Fd ready_r(fds[0]), ready_w(fds[1]), go_r(fds[2]), go_w(fds[3]);
        const pid_t me = ::getpid();
        std::deque<Child> kids;  // Py: the _children set behind active_children()
        for (int i = 1; i <= 3; ++i) {
            std::cout.flush();
            kids.emplace_back(check(::fork(), "fork"), "Process-" + std::to_string(i));
            if (kids.back().pid == 0) {  // the child ends here, whatever happens
                ::close(go_w.fd);  // else it would never see the parent's EOF
                int code = 1;
                try {
                    code = child_body(kids.back().name, me, ready_w.fd, go_r.fd, i != 1);
                } catch (...) {}
                _exit(code);
            }
            // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the system call itself.
            kids.back().pidfd.fd = check(
                static_cast<int>(::syscall(SYS_pidfd_open, kids.back().pid, 0)), "pidfd_open");
        }
        ::close(ready_w.fd);
        ready_w.fd = -1;  // so that children that died give EOF, not a hang
        char buf[1];
        for (int got = 0; got < 3; ++got)  // one byte per child, after its prctl()
            if (check(static_cast<int>(::read(ready_r.fd, buf, 1)), "read") != 1)
                throw std::runtime_error("a child died before naming itself");

        char mine[16] = {};
        check(::prctl(PR_GET_NAME, mine), "prctl");
        std::cout << "current_process(): pid " << me << ", kernel name \"" << mine << "\"\n";
        for (auto& k : kids)
            std::cout << k.name << ": pid " << k.pid << ", /proc/PID/comm = \"" << comm(k.pid)
                      << "\"\n";

        pollfd first{kids.front().pidfd.fd, POLLIN, 0};  // Process-1 ends by itself
        check(::poll(&first, 1, 5000), "poll");
        std::cout << "active_children():";
        int status = 0, bad = 0, active = 0;
        for (auto& k : kids) {  // Py: each child's poll(): waitpid(WNOHANG) reaps the finished
            pollfd p{k.pidfd.fd, POLLIN, 0};
            if (check(::poll(&p, 1, 0), "poll") == 0) {  // not readable: still running
                std::cout << ' ' << k.name;
                ++active;
                continue;
            }
            check(::waitpid(k.pid, &status, 0), "waitpid");
            k.pid = -1;
            bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        const int listed = children_listed(me);
        std::cout << "\n/proc/" << me << "/task/" << me << "/children lists " << listed
                  << " (Process-1 was reaped)\n";
        ::close(go_w.fd);
        go_w.fd = -1;  // "go": the others see EOF and end
        for (auto& k : kids) {
            if (k.pid <= 0) continue;
            check(::waitpid(k.pid, &status, 0), "waitpid");
            k.pid = -1;
            bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        std::cout << "every child saw parent_process() = " << me << (bad == 0 ? " ✓" : " ✗")
                  << '\n';
        return (bad == 0 && active == 2 && listed == 2) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "who_am_i: " << e.what() << '\n';
        return 1;
    }
}
