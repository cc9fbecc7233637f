// result_by_id.cpp — collecting results by id: a value, an error, or a time-out.
//
// Python's tutorial has get_result(task_id, timeout), which puts other tasks' results
// back on the shared queue, where another caller may take them. Here results that
// arrive for other ids wait in a local table, and a time-out leaves the task running:
// its result can still be collected later.
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <system_error>

namespace {

using namespace std::chrono;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct Fd { int fd = -1; ~Fd() { if (fd >= 0) ::close(fd); } };   // owns one descriptor

struct Msg { int id; long ms; };   // task: "sleep ms, then divide 1000 by ms"; reply: ms < 0 is an error
struct TaskFailed : std::runtime_error { using std::runtime_error::runtime_error; };
struct Timeout : std::runtime_error { using std::runtime_error::runtime_error; };

/// One worker, one task at a time. noexcept, no allocation: nothing can unwind into main.
[[noreturn]] void worker_main(int sock) noexcept {
    for (Msg m; ::recv(sock, &m, sizeof m, 0) == sizeof m;) {
        ::usleep(static_cast<useconds_t>(m.ms * 1000));
        Msg reply{m.id, m.ms == 0 ? -1 : 1000 / m.ms};   // division by zero: an error reply
        if (::send(sock, &reply, sizeof reply, MSG_NOSIGNAL) != sizeof reply) _exit(1);
    }
    _exit(0);   // end-of-file: main closed its end
}

std::map<int, long> g_done;   // results that came for other ids, kept until asked for

/// The result of task `id`, waiting at most `timeout`; throws TaskFailed or Timeout.
long get(int sock, int id, milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (!g_done.count(id)) {
        auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        pollfd p{sock, POLLIN, 0};
        int ready = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
        if (ready == -1 && errno == EINTR) continue;
        if (check(ready, "poll") == 0) throw Timeout("task " + std::to_string(id) + " not done after " +
                                                     std::to_string(timeout.count()) + " ms");
        Msg r{};
        if (check(static_cast<int>(::recv(sock, &r, sizeof r, 0)), "recv") != sizeof r)
            throw std::runtime_error("the worker is gone");
        g_done[r.id] = r.ms;   // for us or for a later get(): never put back on the queue
    }
    long value = g_done[id];
    g_done.erase(id);
    if (value < 0) throw TaskFailed("task " + std::to_string(id) + " failed: division by zero");
    return value;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: result_by_id (takes no arguments)\n");
        return 2;
    }
    try {
        int sv[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair");
        Fd sock{sv[0]}, theirs{sv[1]};
        std::fflush(stdout);
        Child worker(check(::fork(), "fork"));
        if (worker.pid == 0) { ::close(sock.fd); worker_main(theirs.fd); }
        ::close(theirs.fd);
        theirs.fd = -1;
        for (Msg task : {Msg{1, 100}, Msg{2, 0}, Msg{3, 300}, Msg{4, 10}})   // in this order, one worker
            check(static_cast<int>(::send(sock.fd, &task, sizeof task, MSG_NOSIGNAL)), "send");
        bool ok = get(sock.fd, 4, 2s) == 100;   // results 1, 2, 3 arrive first and are kept
        std::printf("task 4 = 100; kept meanwhile for later: %zu results\n", g_done.size());
        ok = ok && get(sock.fd, 1, 0ms) == 10;
        std::printf("task 1 = 10, from the table: no waiting\n");
        try { get(sock.fd, 2, 0ms); ok = false; }
        catch (const TaskFailed& e) { std::printf("caught: %s\n", e.what()); }
        Msg slow{5, 300};
        check(static_cast<int>(::send(sock.fd, &slow, sizeof slow, MSG_NOSIGNAL)), "send");
        try { get(sock.fd, 5, 50ms); ok = false; }
        catch (const Timeout& e) { std::printf("caught: %s\n", e.what()); }
        ok = ok && get(sock.fd, 5, 2s) == 3 && get(sock.fd, 3, 0ms) == 3;
        std::printf("task 5 = 3 after all: the time-out stopped the wait, not the task\n");
        ::close(sock.fd);   // end-of-file: the idle worker exits by itself
        sock.fd = -1;
        int status = 0;
        check(::waitpid(worker.pid, &status, 0), "waitpid");
        worker.pid = -1;
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s\n", ok ? "ok: every result reached the caller that asked for it" : "FAIL");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "result_by_id: %s\n", e.what());
        return 1;
    }
}
