// futures_wait.cpp - Python's wait(fs, timeout, return_when) and Future.cancel() over
// child processes. Two workers run six tasks; a pidfd per running child becomes
// readable when it ends, so poll() sleeps until the condition asked for can change.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: task
// Owners: they close the descriptor, kill and reap the child, if we leave early.
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd, o.fd); return *this; }  // o closes ours
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    Child() = default;
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

enum class State { pending, running, finished, raised, cancelled };
struct Task {  // Python's Future for one task, run in a child process
    int id = 0;
    State state = State::pending;
    Child child;
    Fd pidfd, result;  // readable when the child has ended; its answer
    std::string outcome;
};

int body(int id, int go_fd) {  // what each task does, in its child: 0 means success
    char c;
    if (id == 0) return ::read(go_fd, &c, 1) == 1 ? 0 : 1;  // waits for our "go"
    if (id == 2) return 3;                                   // "raises": exit status 3
    if (id == 3) ::raise(SIGKILL);                           // dies on a signal
    return 0;
}

void start(Task& t, const int go[2]) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end(fds[0]), write_end(fds[1]);
    std::cout.flush();  // else the child inherits our buffer and prints it again
    t.child.pid = check(::fork(), "fork");
    if (t.child.pid == 0) {  // the child ends here, whatever happens: never in main's code
        ::close(go[1]);      // so that our death means end of file to task 0
        const long value = 10L * t.id;
        int code = 1;
        try { code = body(t.id, go[0]); } catch (...) {}
        if (code == 0 && ::write(write_end.fd, &value, sizeof value) != sizeof value) code = 1;
        _exit(code);
    }
    // glibc 2.36's <sys/pidfd.h> lacks extern "C": call the system call itself.
    t.pidfd = Fd(check(static_cast<int>(::syscall(SYS_pidfd_open, t.child.pid, 0)), "pidfd_open"));
    t.result = std::move(read_end);
    t.state = State::running;
}

void finish(Task& t) {  // its pidfd is readable: it has ended, so waitpid() returns at once
    int status = 0;
    check(::waitpid(t.child.pid, &status, 0), "waitpid");
    t.child.pid = -1;
    long value = 0;
    if (status == 0 && ::read(t.result.fd, &value, sizeof value) == sizeof value) {
        t.state = State::finished;
        t.outcome = "result " + std::to_string(value);
    } else {  // Python would re-raise the worker's exception from result()
        t.state = State::raised;
        t.outcome = WIFSIGNALED(status) ? "raised: killed by signal " +
                        std::to_string(WTERMSIG(status)) + " (" + ::strsignal(WTERMSIG(status)) + ")"
                                        : "raised: exit status " + std::to_string(WEXITSTATUS(status));
    }
    t.pidfd = Fd();
    t.result = Fd();
}
// ANCHOR_END: task

// ANCHOR: wait
enum class When { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
constexpr const char* kWhen[] = {"FIRST_COMPLETED", "FIRST_EXCEPTION", "ALL_COMPLETED"};

bool satisfied(const std::vector<Task>& ts, When when) {  // Python's rules, cancelled = done
    const auto done = std::count_if(ts.begin(), ts.end(), [](const Task& t) {
        return t.state != State::pending && t.state != State::running; });
    const bool raised = std::any_of(ts.begin(), ts.end(),
                                    [](const Task& t) { return t.state == State::raised; });
    if (when == When::FIRST_COMPLETED) return done > 0;
    if (when == When::FIRST_EXCEPTION) return raised || done == std::ssize(ts);
    return done == std::ssize(ts);
}

void refill(std::vector<Task>& ts, int workers, const int go[2]) {  // the executor's job
    auto running = std::count_if(ts.begin(), ts.end(),
                                 [](const Task& t) { return t.state == State::running; });
    for (auto& t : ts)
        if (t.state == State::pending && running < workers) { start(t, go); ++running; }
}

// Sleeps in poll() on the running children's pidfds until `when` holds; throws at `limit`.
void wait(std::vector<Task>& ts, When when, std::chrono::milliseconds limit, int workers,
          const int go[2]) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!satisfied(ts, when)) {
        std::vector<pollfd> fds;
        for (auto& t : ts) fds.push_back({t.pidfd.fd, POLLIN, 0});  // poll() skips -1
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now()).count();
        if (check(::poll(fds.data(), fds.size(), std::max<int>(0, ms)), "poll") == 0)
            throw std::runtime_error(std::string("wait(") + kWhen[int(when)] + "): time-out");
        for (std::size_t i = 0; i < ts.size(); ++i)
            if (fds[i].revents != 0) finish(ts[i]);
        refill(ts, workers, go);  // a freed worker takes the next pending task
    }
}

bool cancel(Task& t) {  // Python's Future.cancel(): only a task that has not started
    if (t.state != State::pending) return false;
    t.state = State::cancelled;
    t.outcome = "cancelled, never started";
    return true;
}
// ANCHOR_END: wait

// ANCHOR: main
void report(const std::vector<Task>& ts, When when) {
    std::cout << "wait(" << kWhen[int(when)] << ") -> done:";
    for (auto& t : ts) if (t.state != State::pending && t.state != State::running) std::cout << ' ' << t.id;
    std::cout << "; not done:";
    for (auto& t : ts) if (t.state == State::pending || t.state == State::running) std::cout << ' ' << t.id;
    std::cout << '\n';
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        int go[2];  // task 0 cannot finish before we write to this pipe
        check(::pipe2(go, O_CLOEXEC), "pipe2");
        Fd go_read(go[0]), go_write(go[1]);
        const int workers = 2;
        std::vector<Task> tasks(6);
        for (int i = 0; i < 6; ++i) tasks[i].id = i;
        refill(tasks, workers, go);  // submit(): tasks 0 and 1 start, 2..5 wait
        for (When when : {When::FIRST_COMPLETED, When::FIRST_EXCEPTION}) {
            wait(tasks, when, std::chrono::seconds(5), workers, go);
            report(tasks, when);
        }
        for (auto& t : tasks)
            if (t.state == State::pending || t.state == State::running)
                std::cout << "cancel(task " << t.id << ") -> " << std::boolalpha << cancel(t) << '\n';
        check(static_cast<int>(::write(go_write.fd, "!", 1)), "write");  // "go" for task 0
        wait(tasks, When::ALL_COMPLETED, std::chrono::seconds(5), workers, go);
        report(tasks, When::ALL_COMPLETED);
        for (auto& t : tasks) std::cout << "task " << t.id << ": " << t.outcome << '\n';
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "futures_wait: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
