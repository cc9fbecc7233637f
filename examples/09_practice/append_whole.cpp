// append_whole.cpp - many processes, one log file, no collector: each opens the
// file with O_APPEND and writes each line with one write(). O_APPEND moves to
// the end and writes in one step, so no process overwrites another's line, and
// one write() is not mixed with another's. The parent reads the file back.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
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
    char path[32] = "/tmp/append_whole-XXXXXX";
};

// A worker: its own descriptor, O_APPEND, one write() per whole line.
int worker(const char* path, int id) {
    const int fd = check(::open(path, O_WRONLY | O_APPEND | O_CLOEXEC), "open");
    for (int i = 1; i <= lines_each; ++i) {
        const std::string line = "worker " + std::to_string(id) + " line " + std::to_string(i) + '\n';
        check(static_cast<int>(::write(fd, line.data(), line.size())), "write");
    }
    return ::close(fd) == 0 ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
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
        bool workers_ok = true;
        for (Child& c : child) {  // each ends by itself
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;
            workers_ok = workers_ok && status == 0;
        }
        std::ifstream in(log.path);
        const std::regex whole("worker [1-4] line [0-9]+");
        int total = 0, torn = 0;
        for (std::string line; std::getline(in, line); ++total)
            if (!std::regex_match(line, whole)) ++torn;
        std::cout << workers << " processes wrote " << lines_each << " lines each\n"
                  << "the file has " << total << " lines, " << torn << " torn"
                  << (total == workers * lines_each && torn == 0 ? " ✓ every line whole" : " ✗")
                  << '\n';
        return workers_ok && total == workers * lines_each && torn == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "append_whole: " << e.what() << '\n';
        return 1;
    }
}
