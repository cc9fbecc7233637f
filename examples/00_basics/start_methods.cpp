// start_methods.cpp - Python's "fork" and "spawn" start methods, by hand.
//
//  fork : the child is a copy of the parent at the moment of fork(): every
//         global, every heap object, already set up. Fast, and nothing has
//         to be sent to it.
//  spawn: the child is a fresh run of this same program (exec of
//         /proc/self/exe). It starts again at main() with its own arguments
//         and sees none of the parent's run-time state: what it needs must be
//         passed (here: on the command line).
//
// Because a spawned child runs main() again, main() must first ask "am I a
// worker?" - the C++ counterpart of Python's `if __name__ == "__main__":`.
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

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Set by the parent at run time, after the program started.
int g_config = 0;

long task(long n) { return n * n; }

int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) check(-1, "waitpid");
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// What every worker does; it fails (exit 1) if the state it sees is not the
// state its start method promises.
int worker(const char* how, long n, int expected_config) {
    std::cout << how << " worker (pid " << getpid() << "): g_config = " << g_config
              << ", task(" << n << ") = " << task(n) << '\n';
    std::cout.flush();
    return g_config == expected_config ? 0 : 1;
}

bool start_with_fork(long n) {
    std::cout.flush();
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) _exit(worker("fork ", n, 42));  // the copy already holds 42
    return wait_for(pid) == 0;
}

bool start_with_spawn(long n) {
    // /proc/self/exe is this very executable, wherever it was started from.
    std::string arg = std::to_string(n);
    char* argv[] = {const_cast<char*>("start_methods"), const_cast<char*>("--worker"),
                    arg.data(), nullptr};
    std::cout.flush();  // the child writes to the same stdout: keep the order
    pid_t pid;
    if (int err = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, environ))
        throw std::system_error(err, std::generic_category(), "posix_spawn");
    return wait_for(pid) == 0;
}

int usage(const char* prog) {
    std::cerr << "usage: " << prog << "   (internal: " << prog << " --worker N)\n";
    return 2;
}

}  // namespace

int main(int argc, char* argv[]) {
    // The "__main__" guard: a spawned worker arrives here too, and must do
    // only its task, not run the whole demonstration again.
    if (argc == 3 && std::strcmp(argv[1], "--worker") == 0) {
        char* end = nullptr;
        const long n = std::strtol(argv[2], &end, 10);
        if (*end != '\0') return usage(argv[0]);
        return worker("spawn", n, 0);  // a fresh image: still the initial 0
    }
    if (argc > 1) return usage(argv[0]);

    try {
        g_config = 42;  // run-time state, like globals set under __main__
        std::cout << "parent (pid " << getpid() << "): set g_config = 42\n";
        const bool a = start_with_fork(5);
        const bool b = start_with_spawn(6);
        std::cout << (a ? "ok" : "FAILED") << ": the forked child inherited g_config = 42\n"
                  << (b ? "ok" : "FAILED")
                  << ": the spawned child started fresh (g_config = 0) and got its task "
                     "from argv\n";
        return (a && b) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
