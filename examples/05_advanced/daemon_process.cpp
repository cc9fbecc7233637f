// daemon_process.cpp — a real Unix daemon, the opposite of Python's daemon=True.
//
// A Unix daemon is a process detached from its parent, session and terminal
// (double fork, setsid, umask, chdir, closing descriptors). Ours checks each
// property, reports through a pipe, does three ticks of work and ends by itself.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace {

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

struct Pipe {
    Fd read_end, write_end;
    Pipe() {
        int fds[2];
        check(::pipe(fds), "pipe");
        read_end.fd = fds[0];
        write_end.fd = fds[1];
    }
};

/// waitpid() that retries on EINTR and returns the raw status.
int wait_for(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1)
        if (errno != EINTR) check(-1, "waitpid");
    return status;
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return std::string("killed by SIG") + ::sigabbrev_np(WTERMSIG(status));
    return "stopped";
}

void write_line(int fd, const std::string& line) {
    std::string text = line + "\n";
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) std::_Exit(10);
}

/// Runs `body` in a forked child, which ends here whatever happens: never in main's code.
template <class Body>
[[noreturn]] void run_child(Body body) {
    try {
        body();
    } catch (const std::exception& e) {
        std::cerr << "daemon_process: " << e.what() << std::endl;
    }
    _exit(1);
}

/// Runs in the daemon: checks what daemonizing achieved and reports through
/// `report` (fd 3 after the clean-up), then does a little finite work.
[[noreturn]] void daemon_main(pid_t first_child) {
    constexpr int report = 3;
    while (::getppid() == first_child)              // until the first child is gone
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    bool ok = true;
    auto claim = [&](bool holds, const std::string& text) {
        write_line(report, std::string(holds ? "  yes  " : "  FAIL ") + text);
        ok = ok && holds;
    };
    claim(::getsid(0) != ::getpid(), "not a session leader: can never reacquire a terminal");
    claim(::getsid(0) == first_child, "its session was created by the first child (setsid)");
    int tty = ::open("/dev/tty", O_RDWR);
    claim(tty == -1, "no controlling terminal (/dev/tty cannot be opened)");
    if (tty >= 0) ::close(tty);
    char cwd[256] = {};
    claim(::getcwd(cwd, sizeof cwd) != nullptr && std::string(cwd) == "/",
          "working directory is / (does not pin a mounted file system)");
    mode_t mask = ::umask(0);
    claim(mask == 0, "umask is 0 (the daemon sets permissions explicitly)");
    struct stat null_st{}, fd_st{};
    bool all_null = ::stat("/dev/null", &null_st) == 0;
    for (int fd = 0; fd <= 2; ++fd)
        all_null = all_null && ::fstat(fd, &fd_st) == 0 && fd_st.st_rdev == null_st.st_rdev;
    claim(all_null, "stdin, stdout and stderr are /dev/null");
    int open_fds = 0;
    for (int fd = 0; fd < 1024; ++fd) open_fds += ::fcntl(fd, F_GETFD) != -1;
    claim(open_fds == 4, "only 4 descriptors open: 0, 1, 2 and the report pipe");
    for (int tick = 1; tick <= 3; ++tick) {         // the finite "service"
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        write_line(report, "  tick " + std::to_string(tick));
    }
    std::_Exit(ok ? 0 : 1);
}

/// The classic recipe. Returns the daemon's pid (sent back by the first child).
pid_t daemonize(int report_fd) {
    Pipe pid_channel;
    std::cout.flush();
    pid_t first = check(::fork(), "fork");
    if (first == 0) run_child([&] {
        // 1. setsid(): new session and process group, no controlling terminal.
        //    Allowed because a fork()ed child is never a process-group leader.
        check(::setsid(), "setsid");
        pid_t session_leader = ::getpid();          // saved before the second fork
        // 2. Fork again and let the session leader exit: the daemon is not a
        //    session leader, so opening a terminal can never make it its own.
        pid_t second = check(::fork(), "fork");
        if (second > 0) {
            check(static_cast<int>(::write(pid_channel.write_end.fd, &second, sizeof second)), "write");
            _exit(0);
        }
        // 3. umask(0) and chdir("/"): no inherited mask, no busy directory.
        ::umask(0);
        check(::chdir("/"), "chdir");
        // 4. Descriptors: 0-2 to /dev/null, the report pipe to 3, close the rest.
        int null_fd = check(::open("/dev/null", O_RDWR), "open");
        for (int fd = 0; fd <= 2; ++fd) check(::dup2(null_fd, fd), "dup2");
        check(::dup2(report_fd, 3), "dup2");
        check(::close_range(4, ~0U, 0), "close_range");
        daemon_main(session_leader);
    });
    pid_channel.write_end.reset();                  // a dead first child now means EOF
    pid_t daemon_pid = 0;
    bool got = ::read(pid_channel.read_end.fd, &daemon_pid, sizeof daemon_pid) == sizeof daemon_pid;
    int status = wait_for(first);
    if (!got) throw std::runtime_error("the first child failed: " + describe(status));
    std::cout << "first child " << describe(status) << " right after the second fork\n";
    return daemon_pid;
}

/// Starts a daemon, relays its report, and waits until it has ended.
bool demo_unix_daemon() {
    Pipe report;
    pid_t daemon_pid = daemonize(report.write_end.fd);
    report.write_end.reset();   // now only the daemon holds the write end
    std::cout << "daemon reports:\n";
    std::cout.flush();
    std::string text;
    char buf[512];
    ssize_t n;
    while ((n = ::read(report.read_end.fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    check(static_cast<int>(n), "read");
    std::cout << text;
    // EOF means the daemon closed its end, i.e. exited; as its adoptive
    // parent we reap it so that nothing is left behind.
    int status = daemon_pid > 0 ? wait_for(daemon_pid) : -1;
    bool ok = daemon_pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
              text.find("FAIL") == std::string::npos;
    std::cout << "daemon " << (daemon_pid > 0 ? describe(status) : "never started") << '\n';
    std::cout << (ok ? "ok: every daemon property held and it ended by itself\n"
                     : "FAIL: the daemon is not what it should be\n");
    return ok;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::cerr << "usage: daemon_process (takes no arguments)\n";
        return 2;
    }
    // Adopt orphaned descendants so that this demo can reap them; a real
    // daemon is adopted by PID 1 (or by the nearest subreaper, e.g. systemd).
    try {
        check(::prctl(PR_SET_CHILD_SUBREAPER, 1), "prctl(PR_SET_CHILD_SUBREAPER)");
        return demo_unix_daemon() ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "daemon_process: " << e.what() << '\n';
        return 1;
    }
}
