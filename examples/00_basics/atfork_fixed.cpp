// atfork_fixed.cpp - the same situation as fork_in_threads_broken, repaired
// with pthread_atfork().
//
// pthread_atfork(prepare, parent, child) registers three hooks around every
// fork() in the process. The classic use, by a library that owns a lock:
//   prepare: take the lock, so no other thread is inside it at the fork;
//   parent : release it again in the parent;
//   child  : release it in the child, where the forking thread is its owner.
// The child then gets the mutex unlocked and its data consistent.
//
// Better still is not to need this: fork before starting threads, use a fork
// server, or posix_spawn(). pthread_atfork only helps for locks you own.
#include <pthread.h>
#include <signal.h>
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

namespace {

int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

std::mutex g_log_mutex;

extern "C" void before_fork() { g_log_mutex.lock(); }    // waits for the other thread
extern "C" void after_in_parent() { g_log_mutex.unlock(); }
extern "C" void after_in_child() { g_log_mutex.unlock(); }

void child_say(const char* text) {
    [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, text, std::strlen(text));
}

[[noreturn]] void child() {
    child_say("child: calling lock() ...\n");
    if (g_log_mutex.try_lock()) {  // try_lock: a regression must not hang the example
        child_say("child: got the lock\n");
        g_log_mutex.unlock();
        _exit(0);
    }
    child_say("child: the mutex is still locked\n");
    _exit(1);
}

// A second thread that holds the mutex for a while, as a logger would.
class BusyLogger {
public:
    BusyLogger()
        : thread_([this] {
              std::lock_guard lock(g_log_mutex);
              holding_ = true;
              holding_.notify_one();
              std::this_thread::sleep_for(
                  std::chrono::milliseconds(200));  // "writing a log line"
              done_ = true;  // last step inside the critical section
          }) {
        holding_.wait(false);  // return only once the mutex is certainly held
    }
    bool done() const { return done_; }

private:
    std::atomic<bool> holding_{false};
    std::atomic<bool> done_{false};
    std::jthread thread_;  // joined by the destructor
};

struct ChildGuard {
    pid_t pid;
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
        // Once per process, before any fork; returns an error number.
        if (int err = ::pthread_atfork(before_fork, after_in_parent, after_in_child))
            throw std::system_error(err, std::generic_category(), "pthread_atfork");

        BusyLogger logger;
        std::cout << "parent: a second thread holds the mutex; main thread calls fork()\n";
        std::cout.flush();
        ChildGuard guard{check(::fork(), "fork")};  // prepare waits for the logger's unlock
        if (guard.pid == 0) child();
        // The prepare hook had to wait for the logger's unlock, so the logger
        // had finished its critical section before the fork happened.
        const bool waited = logger.done();
        std::cout << "parent: fork() waited until the logger left its critical section: "
                  << (waited ? "yes" : "no") << '\n';

        int status = 0;
        check(::waitpid(guard.pid, &status, 0), "waitpid");
        guard.pid = -1;
        const bool ok = waited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "parent: child exitcode "
                  << (WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status)) << '\n'
                  << (ok ? "ok" : "FAILED")
                  << ": with pthread_atfork the child found the mutex unlocked\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << '\n';
        return 1;
    }
}
