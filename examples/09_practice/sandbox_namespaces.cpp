// sandbox_namespaces.cpp - a worker in its own user and network namespaces:
// unshare(CLONE_NEWUSER | CLONE_NEWNET). Inside, it is nobody (uid 65534: no
// user ID was mapped) and it has no network (a lone loopback interface, down),
// so injected code can neither reach the outside nor act as us on it. Containers
// often forbid new namespaces: then the worker says so and the parent carries on.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

constexpr int kNotAllowed = 3;  // the worker's exit code when unshare is refused

// Interface names from /proc/self/net/dev (lines 3 on: "  name: counters").
std::string interfaces() {
    std::ifstream dev("/proc/self/net/dev");
    std::string line, names;
    for (int n = 0; std::getline(dev, line); ++n)
        if (n >= 2) names += " " + line.substr(line.find_first_not_of(' '), line.find(':') - line.find_first_not_of(' '));
    return names;
}

int worker() {
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNET) == -1) {
        std::cout << "  worker: namespaces are not allowed here: unshare: " << std::strerror(errno) << '\n';
        return kNotAllowed;
    }
    std::cout << "  worker: uid " << ::getuid() << " (nobody), interfaces:" << interfaces() << '\n';
    const int s = check(::socket(AF_INET, SOCK_DGRAM, 0), "socket");
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    ::inet_pton(AF_INET, "192.0.2.1", &to.sin_addr);  // TEST-NET-1: documentation only
    const bool cut_off = ::connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) == -1;
    std::cout << "  worker: connect to 192.0.2.1: "
              << (cut_off ? std::strerror(errno) : "connected ✗") << '\n';
    return cut_off ? 0 : 1;
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
        if (child.pid == 0) {  // the child ends here, whatever happens
            int code = 1;
            try { code = worker(); } catch (const std::exception& e) {
                std::cout << "sandbox_namespaces: " << e.what() << '\n';
            }
            std::cout.flush();
            _exit(code);
        }
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // the worker ends by itself
        child.pid = -1;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::cout << "parent: " << (code == 0 ? "the worker was cut off from the network ✓"
                                  : code == kNotAllowed ? "this machine forbids new namespaces (shown above)"
                                                        : "the worker failed ✗") << '\n';
        return code == 0 || code == kNotAllowed ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sandbox_namespaces: " << e.what() << '\n';
        return 1;
    }
}
