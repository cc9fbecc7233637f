// file_locks.cpp — locks that need no shared memory at all: any process that can
// open the file can take part, even one started by someone else.
//   1. flock(): four processes each open the file by its path (as unrelated
//      programs would) and increment a number stored in it.
//   2. fcntl() record locks: F_SETLK fails while another process holds the lock,
//      and F_GETLK tells us which process that is.
//
// Python: fcntl.flock() / fcntl.lockf(); multiprocessing.Lock cannot be shared
// with a process that was not started by your program.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

namespace {

constexpr int kWorkers = 4;
constexpr int kIncrements = 200;  // per worker

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// Owns a file descriptor.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

/// A temporary file that is removed when the object goes out of scope.
class TempFile {
public:
    TempFile() {
        Fd fd(check(mkstemp(path_), "mkstemp"));
        write_number(fd.get(), 0);
    }
    ~TempFile() { unlink(path_); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const char* path() const { return path_; }

    static long read_number(int fd) {
        char buf[32] = {};
        check(static_cast<int>(pread(fd, buf, sizeof buf - 1, 0)), "pread");
        return std::strtol(buf, nullptr, 10);
    }
    static void write_number(int fd, long n) {
        std::string text =
            std::to_string(n) + '\n';  // only grows: no truncation needed
        if (pwrite(fd, text.data(), text.size(), 0) !=
            static_cast<ssize_t>(text.size()))
            die("pwrite");
    }

private:
    char path_[32] = "/tmp/file_locks_XXXXXX";
};

/// One "unrelated" worker: it shares nothing with the others except the path.
void flock_worker(const char* path) {
    Fd fd(check(open(path, O_RDWR | O_CLOEXEC), "open"));
    for (int i = 0; i < kIncrements; ++i) {
        check(flock(fd.get(), LOCK_EX), "flock");  // blocks while another holds it
        long n = TempFile::read_number(fd.get());
        TempFile::write_number(fd.get(), n + 1);
        check(flock(fd.get(), LOCK_UN), "flock");
    }
}

void wait_child(pid_t pid) {
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child failed");
}

bool demo_flock(const TempFile& file) {
    std::vector<pid_t> children;
    for (int i = 0; i < kWorkers; ++i) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            flock_worker(file.path());
            std::exit(0);
        }
        children.push_back(pid);
    }
    for (pid_t pid : children) wait_child(pid);

    Fd fd(check(open(file.path(), O_RDONLY | O_CLOEXEC), "open"));
    long n = TempFile::read_number(fd.get());
    const long expected = kWorkers * kIncrements;
    std::cout << "flock: " << kWorkers
              << " processes opened the file by name; number = " << n << " (expected "
              << expected << ")"
              << (n == expected ? ": no lost updates\n" : ": UPDATES LOST\n");
    return n == expected;
}

/// A whole-file write lock description for fcntl().
struct flock whole_file(short type) {
    struct flock fl {};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = 0;
    fl.l_len = 0;  // 0 = to the end of the file, however long it gets
    return fl;
}

bool demo_fcntl(const TempFile& file) {
    int held[2], release[2];
    check(pipe2(held, O_CLOEXEC), "pipe2");
    check(pipe2(release, O_CLOEXEC), "pipe2");
    Fd held_r(held[0]), held_w(held[1]), release_r(release[0]), release_w(release[1]);

    std::cout.flush();
    pid_t holder = check(fork(), "fork");
    if (holder == 0) {
        // The holder: take the lock, say so, keep it until the parent says stop.
        release_w.reset();  // or our own copy of the write end would hide the EOF
        Fd fd(check(open(file.path(), O_RDWR | O_CLOEXEC), "open"));
        struct flock fl = whole_file(F_WRLCK);
        check(fcntl(fd.get(), F_SETLKW, &fl), "fcntl(F_SETLKW)");
        check(static_cast<int>(write(held_w.get(), "x", 1)), "write");
        char c;
        check(static_cast<int>(read(release_r.get(), &c, 1)), "read");  // EOF = release
        std::exit(0);  // exiting (closing the file) drops the lock
    }
    char c;
    check(static_cast<int>(read(held_r.get(), &c, 1)), "read");  // holder has the lock

    Fd fd(check(open(file.path(), O_RDWR | O_CLOEXEC), "open"));
    struct flock fl = whole_file(F_WRLCK);
    bool refused =
        fcntl(fd.get(), F_SETLK, &fl) == -1 && (errno == EAGAIN || errno == EACCES);
    std::cout << "fcntl: F_SETLK while another process holds the lock: "
              << (refused ? "refused (EAGAIN)\n" : "GRANTED?!\n");

    struct flock query = whole_file(F_WRLCK);
    check(fcntl(fd.get(), F_GETLK, &query), "fcntl(F_GETLK)");
    bool named = query.l_type == F_WRLCK && query.l_pid == holder;
    std::cout << "fcntl: F_GETLK names the holder: "
              << (named ? "yes, it is our child\n" : "NO\n");

    release_w.reset();  // EOF on the pipe tells the holder to exit
    wait_child(holder);

    fl = whole_file(F_WRLCK);
    bool granted = fcntl(fd.get(), F_SETLK, &fl) == 0;
    std::cout << "fcntl: after the holder exited, F_SETLK: "
              << (granted ? "granted\n" : "REFUSED\n");
    return refused && named && granted;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    TempFile file;
    bool ok = demo_flock(file);
    ok = demo_fcntl(file) && ok;
    return ok ? 0 : 1;
}
