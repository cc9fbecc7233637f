// fifo_named.cpp — a named pipe (FIFO): a pipe with a name in the file system,
// so processes that share no file descriptors can still find it.
// Python: os.mkfifo(path), then open(path) in each program.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "fifo_named";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { if (fd_ != -1) ::close(fd_); }
    Fd(const Fd&) = delete;
    int get() const { return fd_; }
private:
    int fd_;
};

/// A FIFO in a fresh private directory; both are removed by the destructor,
/// so no name is left behind even if the program fails half-way.
class TempFifo {
public:
    TempFifo() {
        char dir[] = "/tmp/fifo_named-XXXXXX";
        if (!::mkdtemp(dir)) check(-1, "mkdtemp");
        dir_ = dir;
        path_ = dir_ + "/channel";
        if (::mkfifo(path_.c_str(), 0600) == -1) {
            int err = errno;             // rmdir() may change errno
            ::rmdir(dir_.c_str());
            throw std::system_error(err, std::generic_category(), "mkfifo");
        }
    }
    ~TempFifo() { ::unlink(path_.c_str()); ::rmdir(dir_.c_str()); }
    TempFifo(const TempFifo&) = delete;
    const char* path() const { return path_.c_str(); }
private:
    std::string dir_, path_;
};

class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try { rc = body(); } catch (const std::exception& e) {
                std::fprintf(stderr, "%s (child): %s\n", program, e.what());
            } catch (...) {}
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

// The writer knows only the path, as an unrelated program would.
int writer(const char* path) {
    Fd fd(check(::open(path, O_WRONLY), "open for writing"));  // blocks until a reader opens
    for (const char* line : {"hello through a name\n", "second line\n"})
        check(static_cast<int>(::write(fd.get(), line, std::strlen(line))), "write");
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: fifo_named\n"); return 2; }
    try {
        TempFifo fifo;
        struct stat st{};
        check(::stat(fifo.path(), &st), "stat");
        std::printf("mkfifo created a file-system entry of type FIFO: %s\n",
                    S_ISFIFO(st.st_mode) ? "yes" : "no");

        Child child([&] { return writer(fifo.path()); });

        // A blocking open() for reading waits until some process opens the FIFO
        // for writing -- for ever, if the writer died first. O_NONBLOCK returns at
        // once; poll() then waits for the writer's data, with a time-out.
        Fd fd(check(::open(fifo.path(), O_RDONLY | O_NONBLOCK), "open for reading"));
        std::string text;
        char buf[256];
        for (;;) {
            pollfd p{fd.get(), POLLIN, 0};
            if (check(::poll(&p, 1, 5000), "poll") == 0)
                throw std::runtime_error("no data from the writer within 5 s");
            ssize_t n = ::read(fd.get(), buf, sizeof buf);
            if (n == -1 && (errno == EINTR || errno == EAGAIN)) continue;
            if (check(static_cast<int>(n), "read") == 0) break;   // EOF: the writer closed
            text.append(buf, static_cast<size_t>(n));
        }
        std::printf("reader got: %s", text.c_str());
        int status = child.wait();
        bool ok = S_ISFIFO(st.st_mode) && status == 0 &&
                  text == "hello through a name\nsecond line\n";
        std::printf("%s\n", ok ? "EOF after the writer closed: the FIFO behaves like a pipe"
                               : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fifo_named: %s\n", e.what());
        return 1;
    }
}
