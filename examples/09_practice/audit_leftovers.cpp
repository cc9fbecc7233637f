// audit_leftovers.cpp - the runner's audit: as a child subreaper, run a sloppy child,
// then find the orphan and the /dev/shm name it left, report them and remove them.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {
// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Our children, as the kernel lists them (the orphans a subreaper adopted too).
std::vector<pid_t> children() {
    std::ifstream in("/proc/self/task/" + std::to_string(::getpid()) + "/children");
    std::vector<pid_t> pids;
    for (pid_t pid; in >> pid;) pids.push_back(pid);
    return pids;
}

// Counts what is left: our children (orphans now) and our name, /dev/shm/<tag>.
std::size_t audit(const char* when, const std::string& tag) {
    const std::size_t processes = children().size();
    std::size_t objects = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm"))
        objects += entry.path().filename() == tag;
    std::cout << when << ": " << processes << " process" << (processes == 1 ? "" : "es")
              << ", " << objects << " /dev/shm object" << (objects == 1 ? "\n" : "s\n");
    return processes + objects;
}

// Removes whatever is left, even when we fail: kill and reap, unlink the name.
struct Cleanup {
    std::string tag;
    void remove() {
        for (pid_t pid : children()) { ::kill(pid, SIGKILL); ::waitpid(pid, nullptr, 0); }
        ::shm_unlink(("/" + tag).c_str());
    }
    ~Cleanup() { remove(); }
};

// The sloppy child: creates a name it never unlinks, starts a grandchild it
// never waits for, and exits. Its errors go to stderr; it ends with _exit.
[[noreturn]] void sloppy_child(const char* name) {
    try {
        const int fd = check(::shm_open(name, O_CREAT | O_RDWR, 0600), "shm_open");
        ::close(fd);  // and no shm_unlink
        if (check(::fork(), "fork") == 0) ::sleep(30);  // the grandchild; killed first
        ::_exit(0);
    } catch (const std::exception& e) {
        std::cerr << "sloppy child: " << e.what() << std::endl;
        ::_exit(1);
    }
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        check(::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl");
        const std::string tag = "sloppy-" + std::to_string(::getpid());
        Cleanup cleanup{tag};
        std::cout.flush();
        const pid_t child = check(::fork(), "fork");
        if (child == 0) sloppy_child(("/" + tag).c_str());
        int status = 0;
        check(::waitpid(child, &status, 0), "waitpid");  // it exits at once
        if (status != 0) throw std::runtime_error("the sloppy child failed");
        const auto left = audit("left behind", tag);
        cleanup.remove();
        const auto after = audit("after clean-up", tag);
        return left == 2 && after == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "audit_leftovers: " << e.what() << '\n';
        return 1;
    }
}
