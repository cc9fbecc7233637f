// as_completed.cpp - results in the order the children finish, not the order they
// were started (Py: for f in as_completed(fs, timeout=5): f.result()). Each child
// writes its result to its own pipe; poll() sleeps until any of the pipes is readable.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owners: they close the descriptor, kill and reap the child, if we leave early.
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd, o.fd); return *this; }  // o closes ours
    ~Fd() { if (fd != -1) ::close(fd); }
    int fd;
};
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
struct Task { int id; Child child; Fd result; };  // Python's Future, for one child

constexpr int kTasks = 4;
long square_slowly(int x) {  // the later a task starts, the sooner it finishes
    std::this_thread::sleep_for(std::chrono::milliseconds(40 * (kTasks - x)));
    return long{x} * x;
}

Task submit(int id) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end(fds[0]), write_end(fds[1]);
    std::cout.flush();  // else the child inherits our buffer and prints it again
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) {  // the child ends here, whatever happens: never in main's code
        int code = 1;
        try {
            const long r = square_slowly(id);
            code = ::write(write_end.fd, &r, sizeof r) == sizeof r ? 0 : 1;
        } catch (...) {}
        _exit(code);
    }
    return Task{id, std::move(child), std::move(read_end)};  // our write end closes here
}

// Calls done(id, value) for each task as it finishes; throws if `limit` passes first.
template <class Done>
void as_completed(std::vector<Task>& tasks, std::chrono::milliseconds limit, Done done) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (std::size_t left = tasks.size(); left > 0;) {
        std::vector<pollfd> fds;
        for (auto& t : tasks) fds.push_back({t.result.fd, POLLIN, 0});  // poll skips -1
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (check(::poll(fds.data(), fds.size(), std::max<int>(0, ms.count())), "poll") == 0)
            throw std::runtime_error("as_completed: time-out, tasks left unfinished");
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            if (fds[i].revents == 0) continue;  // POLLIN: a result; POLLHUP alone: EOF
            long value = 0;
            const bool got = ::read(tasks[i].result.fd, &value, sizeof value) == sizeof value;
            tasks[i].result = Fd();  // done: poll() will not return it again
            int status = 0;          // it has written its last byte: it is exiting now
            check(::waitpid(tasks[i].child.pid, &status, 0), "waitpid");
            tasks[i].child.pid = -1;
            if (!got || status != 0) throw std::runtime_error("a child died without a result");
            done(tasks[i].id, value);
            --left;
        }
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        std::vector<Task> tasks;
        for (int id = 0; id < kTasks; ++id) tasks.push_back(submit(id));
        std::cout << "started tasks 0 1 2 3; results in completion order:\n";
        std::vector<int> seen(kTasks, 0);
        bool correct = true;
        as_completed(tasks, std::chrono::seconds(5), [&](int id, long value) {
            ++seen.at(id);
            correct = correct && value == long{id} * id;
            std::cout << "task " << id << ": " << id << "*" << id << " = " << value << '\n';
        });
        bool once = true;
        for (int n : seen) once = once && n == 1;
        std::cout << kTasks << " tasks, each reported exactly once: " << (once ? "yes ✓" : "no ✗")
                  << ", every result correct: " << (correct ? "yes ✓" : "no ✗") << '\n';
        return once && correct ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "as_completed: " << e.what() << '\n';
        return 1;
    }
}
