// atfork_fixed.cpp - fork_in_threads_broken, repaired with pthread_atfork().
// It registers three hooks around every fork() in the process:
//   prepare (in the parent, before): take the lock, so no thread is inside it;
//   parent  (in the parent, after) : release it;
//   child   (in the child, after)  : release it; the forking thread owns it there.
// Unlocking in the child is right for std::mutex (a NORMAL mutex) only: a
// std::recursive_mutex must be re-initialised there (atfork_recursive shows why).
// It only helps for locks you own. Better still: fork before starting
// threads, use a fork server, or posix_spawn().
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
std::mutex g_log_mutex;

extern "C" void before_fork() { g_log_mutex.lock(); }  // waits for the other thread
extern "C" void after_in_parent() { g_log_mutex.unlock(); }
extern "C" void after_in_child() { g_log_mutex.unlock(); }

// The child of a threaded program: async-signal-safe calls only (write, _exit).
void child_say(const char* text) {
    [[maybe_unused]] ssize_t n = ::write(STDOUT_FILENO, text, std::strlen(text));
}

[[noreturn]] void child() noexcept {
    if (g_log_mutex.try_lock()) {  // try_lock: a regression must not hang the example
        child_say("child: the mutex is free ✓\n");
        _exit(0);
    }
    child_say("child: the mutex is still locked ✗\n");
    _exit(1);
}

// A second thread that holds the mutex for 200 ms, as a logger would.
class BusyLogger {
public:
    BusyLogger() : thread_([this] {
        std::lock_guard lock(g_log_mutex);
        holding_ = true;
        holding_.notify_one();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));  // "a log line"
        done_ = true;  // the last step inside the critical section
    }) {
        holding_.wait(false);  // return only once the mutex is certainly held
    }
    bool done() const { return done_; }

private:
    std::atomic<bool> holding_{false}, done_{false};
    std::jthread thread_;  // last member: starts after the atomics exist
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // Once per process, before any fork; it returns an error number.
        if (int err = ::pthread_atfork(before_fork, after_in_parent, after_in_child))
            throw std::system_error(err, std::generic_category(), "pthread_atfork");

        BusyLogger logger;
        std::cout << "parent: a second thread holds the mutex; main calls fork()\n";
        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child c(check(::fork(), "fork"));  // `prepare` waits for the logger's unlock
        if (c.pid == 0) child();
        // Logic, not timing: fork() could not return before the lock was free.
        const bool waited = logger.done();
        std::cout << "parent: fork() waited until the logger left its critical section "
                  << (waited ? "✓" : "✗") << '\n';

        int status = 0;
        check(::waitpid(std::exchange(c.pid, -1), &status, 0), "waitpid");
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "parent: the child " << (ok ? "exited with 0 ✓" : "failed ✗") << '\n';
        return (waited && ok) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "atfork_fixed: " << e.what() << '\n';
        return 1;
    }
}
