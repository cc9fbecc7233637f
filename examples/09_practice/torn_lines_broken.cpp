// torn_lines_broken.cpp - the writers of append_whole, but each logs with
// fprintf() to a FILE* opened "a" (O_APPEND). stdio write()s a block when it is
// full, often in the middle of a line, and another process's block can land
// between the two halves: every fprintf() printed a whole line, yet lines tear.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <regex>
#include <string>
#include <system_error>

constexpr int workers = 4, lines_each = 1000;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p = -1) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Owns the log file's name: removed when we are done, whatever happens.
struct TempFile {
    TempFile() { int fd = check(::mkstemp(path), "mkstemp"); ::close(fd); }
    ~TempFile() { ::unlink(path); }
    char path[32] = "/tmp/torn_lines-XXXXXX";
};

// A worker: a whole line per fprintf(), but stdio decides when to write().
int worker(const char* path, int id) {
    std::FILE* log = std::fopen(path, "a");  // fully buffered: it is not a terminal
    if (!log) return 1;
    for (int i = 1; i <= lines_each; ++i) {
        std::fprintf(log, "worker %d line %d\n", id, i);
        ::usleep(20);  // some work between lines: the writers run side by side
    }
    return std::fclose(log) == 0 ? 0 : 1;  // writes the last, partly filled block
}

// Runs the writers once; returns the number of torn lines and shows the first.
int torn_lines() {
    TempFile log;
    Child child[workers];
    for (int id = 0; id < workers; ++id) {
        std::cout.flush();  // else a child inherits our buffer and prints it again
        child[id].pid = check(::fork(), "fork");
        if (child[id].pid == 0) {  // the child ends here, whatever happens
            int code = 1;
            try { code = worker(log.path, id + 1); } catch (...) {}
            _exit(code);
        }
    }
    for (Child& c : child) {  // each ends by itself
        int status = 0;
        check(::waitpid(c.pid, &status, 0), "waitpid");
        c.pid = -1;
        if (status != 0) throw std::runtime_error("a writer failed");
    }
    std::ifstream in(log.path);
    const std::regex whole("worker [1-4] line [0-9]+");
    int torn = 0;
    for (std::string line; std::getline(in, line);)
        if (!std::regex_match(line, whole) && ++torn == 1) std::cout << "torn: " << line << '\n';
    return torn;
}

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        int torn = 0;
        for (int run = 1; run <= 5 && torn == 0; ++run) torn = torn_lines();  // a race: retry
        std::cout << torn << " torn lines " << (torn > 0 ? "✗ (stdio wrote blocks, not lines)\n"
                                                         : "(the race did not happen in 5 runs)\n");
        return torn > 0 ? 0 : 1;  // the claim: block-buffered lines tear
    } catch (const std::exception& e) {
        std::cerr << "torn_lines_broken: " << e.what() << '\n';
        return 1;
    }
}
