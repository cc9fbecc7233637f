// proc_inspect.cpp - a child is stuck: read() never returns. Without touching its
// code, /proc/<pid> tells what it is doing (status, stack), what it holds
// open (fd) and what it has mapped (maps); gdb -p attaches and prints where.
// The fd list shows the bug: the child holds the pipe's write end itself.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

extern char** environ;

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: owner
// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
// ANCHOR_END: owner

// Prints the lines of a /proc file that contain one of the words.
void show(const std::string& path, const std::vector<std::string>& words) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) { std::cout << "  (not readable here)\n"; return; }
    do {
        for (const auto& w : words)
            if (line.find(w) != std::string::npos) { std::cout << "  " << line << '\n'; break; }
    } while (std::getline(in, line));
}

// Field 3 of /proc/<pid>/stat: R running, S sleeping, Z zombie.
char state(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() ? line[paren + 2] : '?';
}

// Waits (at most 2 s) until the child sleeps in the kernel.
bool wait_until_sleeping(pid_t pid) {
    for (int i = 0; i < 200; ++i, ::usleep(10'000))
        if (state(pid) == 'S') return true;
    return false;
}

// /proc/<pid>/fd: one symbolic link per descriptor; we print the pipes
// beyond stdin, stdout and stderr.
void show_pipes(const std::string& proc) {
    std::vector<std::pair<int, std::string>> pipes;
    for (const auto& e : std::filesystem::directory_iterator(proc + "/fd")) {
        std::string target = std::filesystem::read_symlink(e.path()).string();
        const int fd = std::stoi(e.path().filename());
        if (fd > 2 && target.starts_with("pipe:")) pipes.emplace_back(fd, target);
    }
    std::sort(pipes.begin(), pipes.end());
    for (const auto& [fd, target] : pipes) std::cout << "  " << fd << " -> " << target << '\n';
}

// ANCHOR: attach
// gdb -p PID -batch -ex bt: attach, print the stack, detach. gdb gets our
// environment minus LD_PRELOAD (a preloaded library is meant for us, not for it).
void attach_gdb(pid_t pid) {
    std::vector<char*> env;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) env.push_back(*e);
    env.push_back(nullptr);
    std::string p = std::to_string(pid);
    const char* argv[] = {"gdb", "-batch", "-nx", "-q", "-iex",
                          "set debug-file-directory /nonexistent", "-p", p.c_str(),
                          "-ex", "bt", nullptr};
    pid_t gdb = 0;
    std::cout.flush();
    int err = ::posix_spawnp(&gdb, "gdb", nullptr, nullptr, const_cast<char**>(argv), env.data());
    if (err == ENOENT) { std::cout << "gdb is not installed: no attach\n"; return; }
    if (err != 0) throw std::system_error(err, std::generic_category(), "posix_spawnp");
    Child debugger(gdb);
    int status = 0;
    check(::waitpid(gdb, &status, 0), "waitpid");  // gdb -batch ends by itself
    debugger.pid = -1;
}
// ANCHOR_END: attach

}  // namespace

// ANCHOR: look
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int fd[2];
        check(::pipe(fd), "pipe");
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {  // BUG: it never closes its copy of the write end fd[1]
            char order;
            (void)::read(fd[0], &order, 1);  // so EOF can never come: blocks for ever
            _exit(0);
        }
        ::close(fd[0]);
        ::close(fd[1]);  // the parent closes both ends: the child still blocks
        const std::string proc = "/proc/" + std::to_string(child.pid);
        if (!wait_until_sleeping(child.pid)) throw std::runtime_error("the child never slept");
        std::cout << "child " << child.pid << " is stuck. " << proc << "/status:\n";
        show(proc + "/status", {"State:", "PPid:"});
        std::cout << proc << "/stack (its kernel stack; root only):\n";
        show(proc + "/stack", {"read"});
        std::cout << proc << "/fd (its pipe descriptors: both ends of one pipe):\n";
        show_pipes(proc);
        std::cout << proc << "/maps (its stack mapping):\n";
        show(proc + "/maps", {"[stack]"});
        std::cout << "gdb -p " << child.pid << " -batch -ex bt:\n";
        attach_gdb(child.pid);

        // The diagnosis: it holds the write end itself, so no EOF will ever come.
        ::kill(child.pid, SIGKILL);
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;
        const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        std::cout << "it held the write end itself: no EOF could come; killed it: "
                  << (killed ? "ended by SIGKILL" : "not as expected") << '\n';
        return killed ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "proc_inspect: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: look
