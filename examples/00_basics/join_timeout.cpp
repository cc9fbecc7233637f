// join_timeout.cpp - waitpid() has no timeout. A pidfd (Linux >= 5.3) refers
// to one child and becomes readable when it exits, so poll() on it is
// join(timeout) (Py: p.join(0.05)), and a zero timeout is is_alive().
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <system_error>
#include <utility>

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

// True if the child ended within `ms` (-1: no limit). It does not reap.
bool join(const Fd& pidfd, int ms) {
    pollfd p{pidfd.fd, POLLIN, 0};
    return check(::poll(&p, 1, ms), "poll") == 1;  // 0: the time ran out
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
        // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the system call itself.
        Fd pidfd(check(static_cast<int>(::syscall(SYS_pidfd_open, child.pid, 0)),
                       "pidfd_open"));

        const bool early = join(pidfd, 50);  // cannot end yet: it waits for "go"
        const bool alive = !join(pidfd, 0);  // is_alive()
        std::cout << "join(50 ms) -> " << (early ? "finished ✗" : "timed out ✓")
                  << ", is_alive() -> " << (alive ? "true ✓" : "false ✗") << '\n';
        check(static_cast<int>(::write(go_write.fd, "!", 1)), "write");
        const bool ended = join(pidfd, -1);  // no limit: it is ending now, or has died
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // the pidfd did not reap
        child.pid = -1;
        const bool ok = ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "after \"go\": join() -> exitcode "  // Py: -N if killed by signal N
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status))
                  << (ok ? " ✓" : " ✗") << '\n';
        return (!early && alive && ok) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "join_timeout: " << e.what() << '\n';
        return 1;
    }
}
