// exec_inherits.cpp — what survives exec(): the same process, a new program.
//
// The parent changes one attribute of each kind (inherit.hpp), then forks a child
// that exec()s this program again with "--observe", the two descriptor numbers and
// the parent's view as arguments. The new program compares, prints the table and
// exits 0 only if every row is as execve(2) documents.
#include <sys/wait.h>

#include <cstring>
#include <iterator>

#include "inherit.hpp"

namespace {

// Each row {parent, after exec}: close-on-exec descriptors close, handlers reset
// to default (their code is gone), and memory is the new program's own.
const char* const kExpected[][2] = {
    {"open", "open"}, {"open", "closed"}, {"blue", "blue"}, {"/", "/"}, {"0027", "0027"},
    {"ignored", "ignored"}, {"handler", "default"}, {"blocked", "blocked"},
    {"512", "512"}, {"42", "0"},
};
constexpr int kRows = std::size(kExpected);

/// The exec()ed program: argv = --observe PLAIN_FD CLOEXEC_FD <parent's values>.
int observe_after_exec(char** argv) {
    auto seen = observe(std::atoi(argv[2]), std::atoi(argv[3]));
    std::vector<Row> parent = seen;   // same names; the values are the parent's
    for (int i = 0; i < kRows; ++i) parent[i].value = argv[4 + i];
    return report("after exec", parent, seen, kExpected) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    bool observer = argc == 4 + kRows && std::strcmp(argv[1], "--observe") == 0;
    if (argc > 1 && !observer) {
        std::fprintf(stderr, "usage: exec_inherits (takes no arguments)\n");
        return 2;
    }
    try {
        if (observer) return observe_after_exec(argv);
        Fd plain{check(::open("/dev/null", O_RDONLY), "open")};
        Fd cloexec{check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open")};
        change_one_of_each();

        // Built before fork(): the child only calls execv and _exit.
        std::vector<std::string> args = {"exec_inherits", "--observe", std::to_string(plain.fd),
                                         std::to_string(cloexec.fd)};
        for (const Row& row : observe(plain.fd, cloexec.fd)) args.push_back(row.value);
        std::vector<char*> child_argv;
        for (std::string& a : args) child_argv.push_back(a.data());
        child_argv.push_back(nullptr);

        std::fflush(stdout);
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the child ends here: in the new program, or at _exit(127)
            ::execv("/proc/self/exe", child_argv.data());
            ::_exit(127);
        }
        int status = 0;   // the new program ends by itself: it only reads and prints
        while (::waitpid(pid, &status, 0) == -1)
            if (errno != EINTR) check(-1, "waitpid");
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s\n", ok ? "ok: every row behaved as execve(2) documents"
                               : "FAIL: something crossed (or did not cross) exec() unexpectedly");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "exec_inherits: %s\n", e.what());
        return 1;
    }
}
