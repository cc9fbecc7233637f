// fifo_named.cpp - a named pipe (FIFO): a pipe with a name in the file system,
// so processes that share no file descriptors can still find it.
// Python: os.mkfifo(path), then open(path) in each program.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns the FIFO's name: mkfifo() fails if the name exists (never someone else's
// file), and the destructor removes it, even if the program fails half-way.
struct TempFifo {
    explicit TempFifo(std::string p) : path(std::move(p)) { check(::mkfifo(path.c_str(), 0600), "mkfifo"); }
    TempFifo(const TempFifo&) = delete;
    ~TempFifo() { ::unlink(path.c_str()); }
    std::string path;
};

// Owns a child: if we leave early, it is killed and reaped.
struct Child { ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); } pid_t pid = -1; };

// The writer knows only the path, as an unrelated program would.
int writer(const char* path) {
    int fd = check(::open(path, O_WRONLY), "open");   // blocks until a reader opens
    for (const char* line : {"hello through a name\n", "second line\n"})
        check(static_cast<int>(::write(fd, line, std::strlen(line))), "write");
    return 0;                            // _exit() closes fd: the reader sees end-of-file
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        TempFifo fifo("/tmp/fifo_named-" + std::to_string(::getpid()));
        struct stat st{}; check(::stat(fifo.path.c_str(), &st), "stat");
        std::printf("mkfifo created a file-system entry of type FIFO: %s\n",
                    S_ISFIFO(st.st_mode) ? "yes" : "no");
        std::fflush(stdout);             // else the child prints our buffer again
        Child child{check(::fork(), "fork")};
        if (child.pid == 0) {            // the child ends here, whatever happens
            int code = 1;
            try { code = writer(fifo.path.c_str()); } catch (const std::exception& e) {
                std::fprintf(stderr, "fifo_named (child): %s\n", e.what());
            } catch (...) {}
            _exit(code);
        }
        // A blocking open() for reading waits until some process opens the FIFO
        // for writing -- for ever, if the writer died first. O_NONBLOCK returns at
        // once; poll() then waits for the writer's data, with a time-out.
        int fd = check(::open(fifo.path.c_str(), O_RDONLY | O_NONBLOCK), "open");
        std::string text; char buf[256];
        for (;;) {
            if (pollfd p{fd, POLLIN, 0}; check(::poll(&p, 1, 5000), "poll") == 0)
                throw std::runtime_error("no data from the writer within 5 s");
            ssize_t n = ::read(fd, buf, sizeof buf);
            if (n == -1 && errno == EAGAIN) continue;   // no writer yet
            if (check(static_cast<int>(n), "read") == 0) break;   // the writer closed
            text.append(buf, static_cast<size_t>(n));
        }
        ::close(fd);
        std::printf("reader got: %s", text.c_str());
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid"); child.pid = -1;  // reaped
        const bool ok = S_ISFIFO(st.st_mode) && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                        text == "hello through a name\nsecond line\n";
        std::printf("%s\n", ok ? "EOF after the writer closed: the FIFO behaves like a pipe" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fifo_named: %s\n", e.what());
        return 1;
    }
}
