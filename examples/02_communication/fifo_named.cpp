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
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int check(int rc, const char* what) {
    if (rc == -1) { std::perror(what); std::exit(1); }
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
        if (!::mkdtemp(dir)) { std::perror("mkdtemp"); std::exit(1); }
        dir_ = dir;
        path_ = dir_ + "/channel";
        if (::mkfifo(path_.c_str(), 0600) == -1) {
            std::perror("mkfifo");
            ::rmdir(dir_.c_str());
            std::exit(1);
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
        if (pid_ == 0) { int rc = body(); std::fflush(stdout); ::_exit(rc); }
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

    TempFifo fifo;
    struct stat st{};
    check(::stat(fifo.path(), &st), "stat");
    std::printf("mkfifo created a file-system entry of type FIFO: %s\n",
                S_ISFIFO(st.st_mode) ? "yes" : "no");

    Child child([&] { return writer(fifo.path()); });

    // open() for reading waits until some process opens the FIFO for writing:
    // the two sides meet at the name.
    Fd fd(check(::open(fifo.path(), O_RDONLY), "open for reading"));
    std::string text;
    char buf[256];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
        if (n == -1 && errno == EINTR) continue;
        check(static_cast<int>(n), "read");
        text.append(buf, static_cast<size_t>(n));
    }
    std::printf("reader got: %s", text.c_str());
    int status = child.wait();
    bool ok = S_ISFIFO(st.st_mode) && status == 0 &&
              text == "hello through a name\nsecond line\n";
    std::printf("%s\n", ok ? "EOF after the writer closed: the FIFO behaves like a pipe"
                           : "FAILED");
    return ok ? 0 : 1;
}
