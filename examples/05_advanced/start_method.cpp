// start_method.cpp — fork or spawn, chosen at run time.
//
// Python: ctx = multiprocessing.get_context("spawn"); ctx.Process(...).
//   fork   the child is a copy of the parent right now: it sees main's changes
//   spawn  fork + exec("/proc/self/exe"): a fresh image that knows only its argv
// Usage: start_method [--method=fork|spawn]   (no argument: both, fork first)
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

std::string g_setting = "initial";   // main changes it at run time

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct Pipe {
    Pipe() { check(::pipe(fd), "pipe"); }   // no O_CLOEXEC: a spawned worker inherits it
    ~Pipe() { close_end(0); close_end(1); }
    void close_end(int i) { if (fd[i] >= 0) ::close(fd[i]); fd[i] = -1; }
    int fd[2];
};

/// The work, the same however the worker started: report the value it sees.
void report(int out_fd) {
    ssize_t n = static_cast<ssize_t>(g_setting.size());
    if (::write(out_fd, g_setting.data(), g_setting.size()) != n) ::_exit(1);
}

/// Starts one worker by `method`; returns what it saw.
std::string run_worker(const std::string& method) {
    Pipe pipe;
    std::string fd_arg = std::to_string(pipe.fd[1]);   // built before fork: no allocation in the child
    char* argv[] = {const_cast<char*>("start_method"), const_cast<char*>("--worker"), fd_arg.data(), nullptr};
    std::fflush(stdout);
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) {  // the child ends here, whatever happens: never in main's code
        if (method == "fork") { report(pipe.fd[1]); ::_exit(0); }   // a copy of main: just run
        ::execv("/proc/self/exe", argv);   // spawn: a brand-new image of this program
        ::_exit(127);
    }
    pipe.close_end(1);  // our copy: a dead worker means end-of-file, never a hang
    std::string seen;
    char buf[128];
    ssize_t n;
    while ((n = ::read(pipe.fd[0], buf, sizeof buf)) > 0) seen.append(buf, static_cast<size_t>(n));
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");
    child.pid = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("the " + method + " worker failed");
    return seen;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--worker") == 0) {   // a spawned worker: argv is all it knows
        report(std::atoi(argv[2]));
        return 0;
    }
    std::vector<std::string> methods = {"fork", "spawn"};
    if (argc == 2 && (std::strcmp(argv[1], "--method=fork") == 0 || std::strcmp(argv[1], "--method=spawn") == 0)) {
        methods = {argv[1] + 9};
    } else if (argc > 1) {
        std::fprintf(stderr, "usage: start_method [--method=fork|spawn]\n");
        return 2;
    }
    try {
        g_setting = "changed at run time";
        std::printf("main set g_setting = \"%s\"\n", g_setting.c_str());
        bool ok = true;
        for (const auto& method : methods) {
            std::string seen = run_worker(method);
            bool good = (seen == g_setting) == (method == "fork");   // only fork copies main's state
            std::printf("%-5s worker sees \"%s\": %s\n", method.c_str(), seen.c_str(),
                        !good ? "UNEXPECTED"
                        : method == "fork" ? "a copy of main at the moment of fork()"
                                           : "a fresh image: only argv and inherited descriptors");
            ok = ok && good;
        }
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "start_method: %s\n", e.what());
        return 1;
    }
}
