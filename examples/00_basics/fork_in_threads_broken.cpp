// fork_in_threads_broken.cpp - BROKEN ON PURPOSE: fork() in a multithreaded
// program while another thread holds a lock.
//
// fork() copies the whole memory, including the mutex in its "locked" state,
// but only the thread that called fork() exists in the child. The thread that
// owns the lock is not there to unlock it, so the child's first lock() waits
// forever. Real programs hit this with locks they never see: malloc's, stdio's,
// a logging library's. (This is why Python 3.12 warns about fork() with threads
// and why 3.14 no longer uses "fork" as the default start method on Linux.)
//
// The example checks that the child did deadlock, kills it, and exits 0.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

std::mutex g_log_mutex;  // stands for any lock inside a library you use

// In the child of a multithreaded fork only async-signal-safe calls are
// allowed until exec: write(2), not iostreams.
void child_say(const char* text) {
    [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, text, std::strlen(text));
}

[[noreturn]] void child(const char* holder_task_path) {
    if (::access(holder_task_path, F_OK) == -1)
        child_say("child: the thread that holds the mutex does not exist here\n");
    child_say("child: calling lock() ...\n");
    g_log_mutex.lock();  // the copy is locked, and its owner is gone: waits forever
    child_say("child: got the lock (not expected)\n");
    _exit(1);
}

// Wait up to `timeout` for the child to end (pidfd + poll, see join_terminate).
bool ended_within(pid_t pid, std::chrono::milliseconds timeout) {
    int fd = check(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)), "pidfd_open");
    pollfd p{fd, POLLIN, 0};
    int n;
    while ((n = ::poll(&p, 1, static_cast<int>(timeout.count()))) == -1 && errno == EINTR) {
    }
    ::close(fd);
    return n == 1;
}

// A second thread that takes the mutex and keeps it until we are done.
class LockHolder {
public:
    LockHolder()
        : thread_([this] {
              std::lock_guard lock(
                  g_log_mutex);  // e.g. in the middle of writing a log line
              tid_ = gettid();
              tid_.notify_one();
              while (!release_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }) {
        tid_.wait(0);  // return only once the mutex is certainly held
    }
    ~LockHolder() { release_ = true; }  // then ~jthread joins
    pid_t tid() const { return tid_; }

private:
    std::atomic<pid_t> tid_{0};
    std::atomic<bool> release_{false};
    std::jthread thread_;  // last member: starts after the atomics exist
};

// Kills and reaps the child on every path out of main.
struct ChildGuard {
    pid_t pid;
    int status = 0;
    int reap() {
        if (pid > 0) {
            check(::waitpid(pid, &status, 0), "waitpid");
            pid = -1;
        }
        return status;
    }
    ~ChildGuard() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
    }
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        LockHolder holder;

        // Prepare everything the child needs before fork: it must not allocate.
        char task_path[64];
        std::snprintf(task_path, sizeof task_path, "/proc/self/task/%d", holder.tid());
        std::cout << "parent: a second thread holds the mutex; main thread calls fork()\n";
        std::cout.flush();
        ChildGuard child_process{check(::fork(), "fork")};
        if (child_process.pid == 0) child(task_path);

        const bool ended = ended_within(child_process.pid, std::chrono::milliseconds(500));
        std::cout << "parent: after 500 ms the child is "
                  << (ended ? "finished" : "still blocked in lock()") << '\n';
        if (!ended) check(::kill(child_process.pid, SIGKILL), "kill");  // the only way out
        const int status = child_process.reap();

        const bool deadlocked =
            !ended && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        std::cout << "parent: reaped the child, exitcode "
                  << (WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status)) << '\n'
                  << (deadlocked ? "ok" : "FAILED")
                  << ": the child deadlocked on a mutex copied in the locked state\n";
        return deadlocked ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
