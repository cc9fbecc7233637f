// fork_inherits.cpp — what a fork()ed child gets from its parent.
//
// The parent changes one attribute of each kind (inherit.hpp) and keeps a second
// thread running, then forks. The child compares what it sees with the parent's
// view, taken just before fork() — a copy the child has in its own memory.
#include <sys/wait.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "inherit.hpp"

namespace {

std::string thread_count() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0) return std::to_string(std::stoi(line.substr(8)));
    return "?";
}

// Each row {parent, after fork}: a fork()ed child is a copy, but of one thread.
const char* const kExpected[][2] = {
    {"open", "open"}, {"open", "open"}, {"blue", "blue"}, {"/", "/"}, {"0027", "0027"},
    {"ignored", "ignored"}, {"handler", "handler"}, {"blocked", "blocked"},
    {"512", "512"}, {"42", "42"}, {"2", "1"},
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: fork_inherits (takes no arguments)\n");
        return 2;
    }
    try {
        Fd plain{check(::open("/dev/null", O_RDONLY), "open")};
        Fd cloexec{check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open")};
        change_one_of_each();
        std::mutex m;
        std::condition_variable_any cv;
        std::jthread helper([&](std::stop_token stop) {   // a second thread, waiting
            std::unique_lock lock(m);
            cv.wait(lock, stop, [] { return false; });     // until ~jthread asks it to stop
        });

        auto mine = observe(plain.fd, cloexec.fd);
        mine.push_back({"threads", thread_count()});
        std::fflush(stdout);
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) {  // the child ends here, whatever happens: never in main's code
            int code = 1;
            try {
                auto seen = observe(plain.fd, cloexec.fd);
                seen.push_back({"threads", thread_count()});
                code = report("after fork", mine, seen, kExpected) == 0 ? 0 : 1;
                g_value = 99;   // changes the child's copy only (copy-on-write)
            } catch (const std::exception& e) {
                std::fprintf(stderr, "fork_inherits: child: %s\n", e.what());
            }
            std::fflush(stdout);
            ::_exit(code);
        }
        int status = 0;   // the child ends by itself: it only reads and prints
        while (::waitpid(pid, &status, 0) == -1)
            if (errno != EINTR) check(-1, "waitpid");
        std::printf("after the child wrote 99 into its copy, the parent still sees g_value = %d\n",
                    g_value);
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && g_value == 42;
        std::printf("%s\n", ok ? "ok: every row behaved as fork(2) documents"
                               : "FAIL: something crossed (or did not cross) fork() unexpectedly");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "fork_inherits: %s\n", e.what());
        return 1;
    }
}
