// qsize_snapshot.cpp - what qsize() of a simple queue (a pipe) can promise: only what
// WAS in it. Two consumers both see qsize() == 1, both call get_nowait(): one gets the
// item, the other EAGAIN (Py: queue.Empty). Check-then-act on qsize() is a race.
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owners: a descriptor is closed, and a child killed and reaped, if we leave early.
struct Fd { ~Fd() { if (fd != -1) ::close(fd); } int fd = -1; };
struct Child { ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); } pid_t pid = -1; };

// Items are fixed 4-byte records: one write() or read() of <= PIPE_BUF bytes is
// whole, so no lock is needed (Python locks because a pickle is two reads).
int qsize(int read_fd) {  // bytes waiting in the pipe, divided by the record size
    int bytes = 0; check(::ioctl(read_fd, FIONREAD, &bytes), "ioctl(FIONREAD)");
    return bytes / static_cast<int>(sizeof(int));
}
bool get_nowait(int read_fd, int& item) {  // false: empty now (Py: raises queue.Empty)
    const ssize_t n = ::read(read_fd, &item, sizeof item);
    if (n == -1 && errno == EAGAIN) return false;
    return check(static_cast<int>(n), "read") == sizeof item;
}

// A consumer: report qsize(), wait for "go", then try to take an item.
int consumer(int q_read, int seen_write, int go_read) {
    const char seen = static_cast<char>('0' + qsize(q_read));
    check(static_cast<int>(::write(seen_write, &seen, 1)), "write");
    char c; int item;
    if (::read(go_read, &c, 1) != 1) return 3;  // the parent is gone
    return get_nowait(q_read, item) ? 0 : 1;  // 0: got it, 1: the queue was empty
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        int fds[2]; check(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), "pipe2");  // the queue
        Fd q_read{fds[0]}, q_write{fds[1]};
        check(::pipe2(fds, O_CLOEXEC), "pipe2");  // consumers -> parent: "I saw N"
        Fd seen_read{fds[0]}, seen_write{fds[1]};
        check(::pipe2(fds, O_CLOEXEC), "pipe2");  // parent -> consumers: "go"
        Fd go_read{fds[0]}, go_write{fds[1]};
        const int item = 42;
        check(static_cast<int>(::write(q_write.fd, &item, sizeof item)), "write");  // put()
        Child a{check(::fork(), "fork")};
        Child b{a.pid == 0 ? 0 : check(::fork(), "fork")};  // consumer a forks no more
        if (a.pid == 0 || b.pid == 0) {  // a consumer ends here, whatever happens
            ::close(go_write.fd);  // so a dead parent means EOF, not a hang
            int code = 2;
            try { code = consumer(q_read.fd, seen_write.fd, go_read.fd); } catch (...) {}
            _exit(code);
        }
        ::close(seen_write.fd); seen_write.fd = -1;  // a consumer that dies gives EOF below
        char seen[2];
        for (char& s : seen)
            if (check(static_cast<int>(::read(seen_read.fd, &s, 1)), "read") != 1)
                throw std::runtime_error("a consumer died before reporting");
        std::cout << "both consumers saw qsize() == " << seen[0] << " and " << seen[1] << '\n';
        check(static_cast<int>(::write(go_write.fd, "!!", 2)), "write");  // both go at once
        int got = 0, empty = 0;
        for (Child* c : {&a, &b}) {  // each ends by itself: reap it
            int status = 0; check(::waitpid(c->pid, &status, 0), "waitpid"); c->pid = -1;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++got;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 1) ++empty;
        }
        std::cout << "get_nowait(): " << got << " got the item, " << empty
                  << " found the queue empty (EAGAIN)\n";
        std::cout << "qsize() now: " << qsize(q_read.fd) << '\n';
        return (seen[0] == '1' && seen[1] == '1' && got == 1 && empty == 1) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "qsize_snapshot: " << e.what() << '\n';
        return 1;
    }
}
