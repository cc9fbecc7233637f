// join_wnohang.cpp - join(timeout) and is_alive() without pidfds: ask
// waitid(WNOHANG) "has it exited?" every few milliseconds. WNOWAIT leaves the
// child unreaped, so asking does not consume its exit status.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <system_error>
#include <thread>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owners: they close the descriptor, kill and reap the child, if we leave early.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

bool is_alive(pid_t pid) {  // Py: p.is_alive()
    siginfo_t info{};
    check(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT),
          "waitid");
    return info.si_pid == 0;  // nothing to report: still running
}

// True if the child ended within `timeout`. It does not reap.
bool join(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (is_alive(pid)) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the price: lag
    }
    return true;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int fds[2];  // "go": the child cannot end before we write to it
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        Fd go_read(fds[0]), go_write(fds[1]);
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {  // the child: async-signal-safe calls, then _exit
            ::close(go_write.fd);  // or, if the parent died, read() would never see EOF
            char c;
            _exit(::read(go_read.fd, &c, 1) == 1 ? 0 : 1);
        }
        using std::chrono_literals::operator""ms;
        const bool early = join(child.pid, 50ms);  // cannot end yet: it waits for "go"
        const bool alive = is_alive(child.pid);
        std::cout << "join(50 ms) -> " << (early ? "finished ✗" : "timed out ✓")
                  << ", is_alive() -> " << (alive ? "true ✓" : "false ✗") << '\n';
        check(static_cast<int>(::write(go_write.fd, "!", 1)), "write");
        int status = 0;  // a blocking waitpid is join() with no limit: it is ending now
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        std::cout << "after \"go\": join() -> exitcode " << code  // as Python's: -N for signal N
                  << (code == 0 ? " ✓" : " ✗") << '\n';
        return (!early && alive && code == 0) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "join_wnohang: " << e.what() << '\n';
        return 1;
    }
}
