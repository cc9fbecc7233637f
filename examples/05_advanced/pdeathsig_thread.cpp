// pdeathsig_thread.cpp — PR_SET_PDEATHSIG fires when the forking THREAD exits.
// A pool forking from a helper thread (or std::async) loses its workers when that thread
// ends. A short-lived thread forks an armed child and returns: the child is killed.
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// The child: arm the signal, tell the forking thread, then wait at most 5 s.
/// Only async-signal-safe calls: it was forked from a multi-threaded process.
[[noreturn]] void child(pid_t parent, int ready_fd) {
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) == -1) ::_exit(10);
    if (::getppid() != parent) ::_exit(11);   // parent already gone: no signal would come
    if (::write(ready_fd, "r", 1) != 1) ::_exit(12);
    ::sleep(5);                               // SIGTERM should end this sleep
    ::_exit(0);
}

/// Runs in a thread that ends right after the child is armed.
void fork_from_thread(pid_t& child_pid) {
    int ready[2];
    check(::pipe2(ready, O_CLOEXEC), "pipe2");
    const pid_t parent = ::getpid();          // saved BEFORE fork()
    child_pid = check(::fork(), "fork");
    if (child_pid == 0) child(parent, ready[1]);
    ::close(ready[1]);
    char byte;
    ssize_t n = ::read(ready[0], &byte, 1);   // returns when armed (or at EOF: child died)
    ::close(ready[0]);
    if (n != 1) throw std::runtime_error("the child did not arm PR_SET_PDEATHSIG");
    std::cout << "thread: forked child " << child_pid << ", armed with PR_SET_PDEATHSIG(SIGTERM);"
              << " the thread now returns\n";
}

/// waitpid with a bound: a pidfd becomes readable when the child exits.
int wait_at_most(pid_t pid, int ms) {
    int pidfd = check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), "pidfd_open");
    pollfd p{pidfd, POLLIN, 0};
    int ready = check(::poll(&p, 1, ms), "poll");
    if (ready == 0) ::kill(pid, SIGKILL);     // not signalled in time: end it, then reap
    ::close(pidfd);
    int status = 0;
    check(::waitpid(pid, &status, 0), "waitpid");
    return ready == 0 ? -1 : status;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::cerr << "usage: pdeathsig_thread (takes no arguments)\n";
        return 2;
    }
    try {
        pid_t child_pid = -1;
        std::cout.flush();
        std::exception_ptr error;
        std::thread forker([&] {
            try { fork_from_thread(child_pid); } catch (...) { error = std::current_exception(); }
        });
        forker.join();   // the forking thread has exited; this process has not
        if (error) std::rethrow_exception(error);
        int status = wait_at_most(child_pid, 2000);
        bool killed = status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM;
        std::cout << "main: the forking thread has exited; child "
                  << (killed ? "was killed by SIGTERM" : "was NOT signalled")
                  << ", while its parent process " << ::getpid() << " is still running\n";
        return killed ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pdeathsig_thread: " << e.what() << '\n';
        return 1;
    }
}
