// task_timeout (WRONG on purpose: after the time-out it gives up on the worker without killing it, as Python does) - three tasks, one worker process
// each: one returns a value, one crashes, one hangs. The caller waits for each result
// with a time-out and says what became of every task; nothing waits for ever, and no
// worker outlives the program. Python: pool.apply_async(f, (x,)).get(timeout=0.5)
// raises TimeoutError but leaves the worker running; here it is killed and reaped.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

namespace {

constexpr int kTasks = 3;
constexpr int kTimeoutMs = 500;
constexpr const char* kNames[kTasks] = {"answer", "crash", "hang"};

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd >= 0) ::close(fd); fd = -1; }
};
struct Pipe {
    Fd read, write;
    void open() { int fds[2]; check(::pipe(fds), "pipe"); read.fd = fds[0]; write.fd = fds[1]; }
};
struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

std::int64_t work(int task) {  // task 0 answers, task 1 crashes, task 2 hangs
    if (task == 1) std::abort();
    if (task == 2) ::sleep(60);
    return 6 * 7;
}

// Starts one worker: it runs one task, writes the 8-byte result, and ends.
void start(int task, Pipe& result, Child& worker) {
    result.open();  // now, not earlier: no other worker inherits its write end
    std::cout.flush();  // the child must not inherit unprinted output
    worker.pid = check(::fork(), "fork");
    if (worker.pid == 0) {  // the child ends here, whatever happens
        int code = 1;
        try {
            const std::int64_t value = work(task);
            code = ::write(result.write.fd, &value, sizeof value) == sizeof value ? 0 : 1;
        } catch (...) {}
        _exit(code);
    }
    result.write.close();  // ours: a worker that dies without a result means end-of-file
}

// At most kTimeoutMs for one result: its value, how the worker died, or a time-out.
std::string outcome(Pipe& result, Child& worker) {
    pollfd ready{result.read.fd, POLLIN, 0};
    if (check(::poll(&ready, 1, kTimeoutMs), "poll") == 0) {
        worker.pid = -1;  // "not ours any more": but it is still running
        return "no result after " + std::to_string(kTimeoutMs) + " ms: worker killed";
    }
    std::int64_t value = 0;
    const int n = check(static_cast<int>(::read(result.read.fd, &value, sizeof value)), "read");
    int status = 0;  // it wrote its result or died: this wait is short
    check(::waitpid(worker.pid, &status, 0), "waitpid");
    worker.pid = -1;  // reaped
    if (n == sizeof value) return "= " + std::to_string(value);
    if (WIFSIGNALED(status))
        return "worker killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               ::strsignal(WTERMSIG(status)) + ")";
    return "worker exited with status " + std::to_string(WEXITSTATUS(status)) + ", no result";
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Pipe results[kTasks];
        Child workers[kTasks];
        for (int t = 0; t < kTasks; ++t) start(t, results[t], workers[t]);  // all at once
        std::string got[kTasks];
        for (int t = 0; t < kTasks; ++t) {
            got[t] = outcome(results[t], workers[t]);
            std::cout << "task " << t << " (" << kNames[t] << "): " << got[t] << '\n';
        }
        const bool ok = got[0] == "= 42" && got[1].starts_with("worker killed by signal") &&
                        got[2].starts_with("no result");
        std::cout << (ok ? "OK: every task has a value or a reason\n"
                         : "WRONG: a task's outcome is not what happened\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "task_timeout: " << e.what() << '\n';
        return 1;
    }
}
