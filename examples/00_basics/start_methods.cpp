// start_methods.cpp - Python's "fork" and "spawn" start methods, by hand.
//  fork : the child is a copy of the parent at the moment of fork(), with
//         every global already set up.
//  spawn: the child is a fresh run of this same program (/proc/self/exe).
//         It starts again at main() and sees none of the parent's run-time
//         state: what it needs comes on its command line.
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

extern char** environ;

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
    bool succeeded() {  // reaps the child; true if it exited with 0
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");
        pid = -1;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    pid_t pid;
};

int g_config = 0;  // set by the parent at run time, after the program started

// The worker fails (exit 1) if it does not see what its start method promises.
int worker(const char* how, long n, int expected_config) {
    std::cout << how << " worker (pid " << getpid() << "): g_config = " << g_config
              << ", task(" << n << ") = " << n * n
              << (g_config == expected_config ? " ✓" : " ✗") << std::endl;
    return g_config == expected_config ? 0 : 1;
}

pid_t start_with_fork(long n) {
    std::cout.flush();  // else the child inherits our buffer and prints it again
    const pid_t pid = check(::fork(), "fork");
    if (pid == 0) {  // the child: whatever happens, it ends here
        int code = 1;
        try { code = worker("fork ", n, 42); } catch (...) {}  // the copy holds 42
        _exit(code);
    }
    return pid;
}

pid_t start_with_spawn(long n) {
    const std::string arg = std::to_string(n);  // the task travels in argv
    const char* argv[] = {"start_methods", "--worker", arg.c_str(), nullptr};
    std::cout.flush();  // the child writes to the same stdout: keep the order
    pid_t pid;
    if (int err = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr,
                                const_cast<char* const*>(argv), environ))
        throw std::system_error(err, std::generic_category(), "posix_spawn");
    return pid;
}

}  // namespace

int main(int argc, char* argv[]) {
    // The "__main__" guard: a spawned worker arrives here too, and must do
    // only its task, not run the whole demonstration again.
    char* end = nullptr;
    if (argc == 3 && std::strcmp(argv[1], "--worker") == 0) {
        const long n = std::strtol(argv[2], &end, 10);
        if (*argv[2] != '\0' && *end == '\0') return worker("spawn", n, 0);  // still 0
    }
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << "   (internal: --worker N)\n";
        return 2;
    }
    try {
        g_config = 42;  // run-time state, like globals set under __main__
        std::cout << "parent (pid " << getpid() << "): set g_config = 42\n";
        Child forked(start_with_fork(5));
        const bool a = forked.succeeded();
        Child spawned(start_with_spawn(6));
        return (spawned.succeeded() && a) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "start_methods: " << e.what() << '\n';
        return 1;
    }
}
