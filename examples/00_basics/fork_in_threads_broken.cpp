// fork_in_threads_broken.cpp - BROKEN ON PURPOSE: fork() while another thread
// holds a lock. fork() copies the memory, the mutex in its locked state too,
// but only the calling thread exists in the child: the owner is not there to
// unlock it, so the child's lock() waits for ever. Real programs meet this
// with locks they never see: malloc's, stdio's, a logging library's.
// The example checks that the child deadlocked, kills it, and exits 0.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

std::mutex g_log_mutex;  // stands for any lock inside a library you use
// A second thread takes the mutex and keeps it until we are done.
class LockHolder {
public:
    LockHolder() : thread_([this] {
        std::lock_guard lock(g_log_mutex);  // e.g. in the middle of a log line
        holding_ = true;
        holding_.notify_one();
        while (!release_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }) {
        holding_.wait(false);  // return only once the mutex is certainly held
    }
    ~LockHolder() { release_ = true; }  // then ~jthread joins

private:
    std::atomic<bool> holding_{false}, release_{false};
    std::jthread thread_;  // last member: starts after the atomics exist
};
// Between fork and exec, the child of a threaded program may only make
// async-signal-safe calls: write(2), not iostreams, and no allocation.
void child_say(const char* text) {
    [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, text, std::strlen(text));
}

[[noreturn]] void child() noexcept {
    child_say("child: calling lock() ...\n");
    g_log_mutex.lock();  // locked in the copy, and its owner is gone: waits for ever
    child_say("child: got the lock (not expected)\n");
    _exit(1);
}
// Without pidfds (Linux < 5.3, or a seccomp filter that refuses pidfd_open):
// ask waitid(WNOHANG) every 5 ms until the deadline; WNOWAIT leaves it unreaped.
bool ended_by_polling(pid_t pid, int ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        siginfo_t info{};
        check(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT),
              "waitid");
        if (info.si_pid != 0) return true;  // it ended (a zombie now)
        if (ms >= 0 && std::chrono::steady_clock::now() >= deadline) return false;
        ::usleep(5000);
    }
}

// pidfd + poll (see join_timeout): true if the child ended within `ms`.
bool ended_within(pid_t pid, int ms) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd == -1 && (errno == ENOSYS || errno == EPERM)) return ended_by_polling(pid, ms);
    check(fd, "pidfd_open");
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, ms);
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return check(n, "poll") == 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        LockHolder holder;
        std::cout << "parent: a second thread holds the mutex; main calls fork()\n";
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child c(check(::fork(), "fork"));
        if (c.pid == 0) child();

        // It is deadlocked for ever, so "not ended after 500 ms" is no guess.
        const bool ended = ended_within(c.pid, 500);
        std::cout << "parent: after 500 ms the child is "
                  << (ended ? "finished ✗" : "still blocked in lock() ✓") << '\n';
        check(::kill(c.pid, SIGKILL), "kill");  // the only way out of this deadlock
        int status = 0;
        check(::waitpid(std::exchange(c.pid, -1), &status, 0), "waitpid");
        const bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        std::cout << "parent: killed and reaped the child"
                  << (killed ? " ✓ it deadlocked on a mutex copied in the locked state\n"
                             : " ✗ it had ended by itself\n");
        return (!ended && killed) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "fork_in_threads_broken: " << e.what() << '\n';
        return 1;
    }
}
