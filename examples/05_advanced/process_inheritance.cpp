// process_inheritance.cpp — what crosses fork() and what crosses exec().
//
// The parent changes one thing of each kind (descriptors, environment, working
// directory, umask, signal dispositions and mask, resource limits, memory,
// threads), then asks three processes to report what they see: itself, a
// fork()ed child, and a child that fork()ed and exec()ed this same program.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {


int g_value = 0;   // the parent sets 42 before forking

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {   // owns one descriptor
    int fd = -1;
    ~Fd() { reset(); }
    void reset() { if (fd >= 0) ::close(fd); fd = -1; }
};

void on_usr2(int) {}

std::string disposition(int sig) {
    struct sigaction sa{};
    check(::sigaction(sig, nullptr, &sa), "sigaction");
    if (sa.sa_handler == SIG_DFL) return "default";
    if (sa.sa_handler == SIG_IGN) return "ignored";
    return "handler";
}

std::string thread_count() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("Threads:", 0) == 0) return std::to_string(std::stoi(line.substr(8)));
    return "?";
}

/// What this process sees, one value per row, in a fixed order.
std::vector<std::string> observe(int plain_fd, int cloexec_fd) {
    std::vector<std::string> v;
    v.push_back(::fcntl(plain_fd, F_GETFD) != -1 ? "open" : "closed");
    v.push_back(::fcntl(cloexec_fd, F_GETFD) != -1 ? "open" : "closed");
    const char* colour = std::getenv("CH05_COLOUR");
    v.push_back(colour ? colour : "(unset)");
    char cwd[256] = {};
    v.push_back(::getcwd(cwd, sizeof cwd) ? cwd : "?");
    mode_t mask = ::umask(0);
    ::umask(mask);   // reading the umask means setting it: put it back
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mask));
    v.push_back(octal);
    v.push_back(disposition(SIGUSR1));
    v.push_back(disposition(SIGUSR2));
    sigset_t blocked;
    check(::sigprocmask(SIG_BLOCK, nullptr, &blocked), "sigprocmask");
    v.push_back(::sigismember(&blocked, SIGHUP) ? "blocked" : "unblocked");
    struct rlimit rl{};
    check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
    v.push_back(std::to_string(rl.rlim_cur));
    v.push_back(std::to_string(g_value));
    v.push_back(thread_count());
    return v;
}

const char* const kRows[] = {
    "fd without O_CLOEXEC", "fd with O_CLOEXEC", "environment CH05_COLOUR",
    "working directory", "umask", "SIGUSR1 disposition", "SIGUSR2 disposition",
    "SIGHUP in signal mask", "RLIMIT_NOFILE soft limit", "global g_value", "threads",
};
// What each column must show: {parent, after fork, after exec}.
const char* const kExpected[][3] = {
    {"open", "open", "open"},          {"open", "open", "closed"},
    {"blue", "blue", "blue"},          {"/", "/", "/"},
    {"0027", "0027", "0027"},          {"ignored", "ignored", "ignored"},
    {"handler", "handler", "default"}, {"blocked", "blocked", "blocked"},
    {"512", "512", "512"},             {"42", "42", "0"},
    {"2", "1", "1"},
};
constexpr size_t kRowCount = std::size(kRows);

void send_lines(int fd, const std::vector<std::string>& values) {
    std::string text;
    for (const auto& s : values) text += s + "\n";
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::_Exit(10);
}

std::vector<std::string> read_lines(int fd) {
    std::string text;
    char buf[1024];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    check(static_cast<int>(n), "read");
    std::vector<std::string> lines;
    for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
        lines.push_back(text.substr(start, end - start));
    return lines;
}

/// Runs a child (exec'ing this program again if `via_exec`) and returns what it saw.
std::vector<std::string> child_view(bool via_exec, int plain_fd, int cloexec_fd) {
    int fds[2];
    check(::pipe(fds), "pipe");   // no O_CLOEXEC: the exec'd child writes to it
    Fd read_end{fds[0]}, write_end{fds[1]};
    std::fflush(stdout);
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {  // the child ends here, whatever happens: never in main's code
        read_end.reset();
        if (!via_exec) {
            int code = 1;
            try {
                send_lines(write_end.fd, observe(plain_fd, cloexec_fd));
                g_value = 99;   // changes the child's copy only (copy-on-write)
                code = 0;
            } catch (const std::exception& e) {
                std::fprintf(stderr, "process_inheritance: child: %s\n", e.what());
            }
            ::_exit(code);
        }
        std::string a = std::to_string(plain_fd), b = std::to_string(cloexec_fd),
                    c = std::to_string(write_end.fd);
        char* argv[] = {const_cast<char*>("process_inheritance"), const_cast<char*>("--observe"),
                        a.data(), b.data(), c.data(), nullptr};
        ::execv("/proc/self/exe", argv);
        ::_exit(127);
    }
    write_end.reset();
    auto lines = read_lines(read_end.fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error(via_exec ? "the exec'd child failed" : "the forked child failed");
    return lines;
}

/// Changes one inheritable attribute of each kind in this (the parent) process.
void change_one_of_each() {
    check(::setenv("CH05_COLOUR", "blue", 1), "setenv");
    check(::chdir("/"), "chdir");
    ::umask(027);
    check(::signal(SIGUSR1, SIG_IGN) == SIG_ERR ? -1 : 0, "signal");
    check(::signal(SIGUSR2, on_usr2) == SIG_ERR ? -1 : 0, "signal");
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    check(::sigprocmask(SIG_BLOCK, &hup, nullptr), "sigprocmask");
    struct rlimit rl{};
    check(::getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
    rl.rlim_cur = 512;
    check(::setrlimit(RLIMIT_NOFILE, &rl), "setrlimit");
    g_value = 42;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && !(argc == 5 && std::strcmp(argv[1], "--observe") == 0)) {
        std::fprintf(stderr, "usage: process_inheritance (takes no arguments)\n");
        return 2;
    }
    try {
    if (argc == 5) {   // the exec'd child
        send_lines(std::atoi(argv[4]), observe(std::atoi(argv[2]), std::atoi(argv[3])));
        return 0;
    }

    // The parent changes one thing of each kind, and keeps a second thread running.
    Fd plain{check(::open("/dev/null", O_RDONLY), "open")};
    Fd cloexec{check(::open("/dev/null", O_RDONLY | O_CLOEXEC), "open")};
    change_one_of_each();
    std::promise<void> stop;
    std::thread helper([f = stop.get_future()] { f.wait(); });   // a second thread
    struct Joiner {   // ends the second thread however main is left
        std::promise<void>& stop;
        std::thread& helper;
        ~Joiner() { stop.set_value(); helper.join(); }
    } joiner{stop, helper};

    auto mine = observe(plain.fd, cloexec.fd);
    auto forked = child_view(false, plain.fd, cloexec.fd);
    auto execed = child_view(true, plain.fd, cloexec.fd);
    if (forked.size() != kRowCount || execed.size() != kRowCount) {
        std::printf("FAIL: a child did not report\n");
        return 1;
    }

    std::printf("%-26s %-9s %-11s %s\n", "what", "parent", "after fork", "after exec");
    int surprises = 0;
    for (size_t i = 0; i < kRowCount; ++i) {
        const std::string* seen[] = {&mine[i], &forked[i], &execed[i]};
        bool as_expected = true;
        for (int c = 0; c < 3; ++c) as_expected = as_expected && *seen[c] == kExpected[i][c];
        surprises += !as_expected;
        std::printf("%-26s %-9s %-11s %-11s %s\n", kRows[i], mine[i].c_str(), forked[i].c_str(),
                    execed[i].c_str(), as_expected ? "as expected" : "UNEXPECTED");
    }
    std::printf("after the child wrote 99 into its copy, the parent still sees g_value = %d\n", g_value);
    bool ok = surprises == 0 && g_value == 42;
    std::printf("%s\n", ok ? "ok: every row behaved as fork(2) and execve(2) document"
                           : "FAIL: something crossed (or did not cross) unexpectedly");
    return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "process_inheritance: %s\n", e.what());
        return 1;
    }
}
