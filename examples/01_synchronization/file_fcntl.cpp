// file_fcntl.cpp - fcntl() record locks on a file (Python: fcntl.lockf()):
// F_SETLK fails at once while another process holds the lock, F_GETLK tells us
// which process that is, and the lock goes away when its holder dies.
#include <fcntl.h>
#include <signal.h>
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
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};
struct Fd {  // owns a file descriptor; close() early to signal end-of-file
    ~Fd() { close(); }
    void close() { if (fd >= 0) ::close(fd); fd = -1; }
    int fd;
};
// A write lock on the whole file: l_len = 0 means "to the end, however long".
constexpr struct flock kWholeFile{.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0,
                                  .l_len = 0, .l_pid = 0};
// The holder takes the lock, says so on `held_w`, and keeps it until it dies.
int hold_lock(const char* path, Fd& held_w) {
    Fd f{check(::open(path, O_RDWR | O_CLOEXEC), "open")};
    struct flock fl = kWholeFile;
    check(::fcntl(f.fd, F_SETLKW, &fl), "fcntl(F_SETLKW)");
    check(static_cast<int>(::write(held_w.fd, "x", 1)), "write");
    ::alarm(5);  // if the parent dies too, SIGALRM ends us: never a process left behind
    ::pause();   // hold the lock until a signal kills us
    return 1;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        char path[] = "/tmp/file_fcntl_XXXXXX";
        Fd file{check(::mkstemp(path), "mkstemp")};
        struct Unlink { const char* p; ~Unlink() { ::unlink(p); } } unlink_at_end{path};
        int held[2];
        check(::pipe2(held, O_CLOEXEC), "pipe2");
        Fd held_r{held[0]}, held_w{held[1]};
        std::cout.flush();  // else the child prints our buffer again
        Child holder{check(::fork(), "fork")};
        if (holder.pid == 0) {  // the holder ends here, whatever happens
            int code = 1;
            try { code = hold_lock(path, held_w); } catch (...) {}
            _exit(code);
        }
        // Close our copy of the write end: if the holder dies before it writes,
        // read() returns end-of-file (0) instead of waiting for ever.
        held_w.close();
        char c;
        if (check(static_cast<int>(::read(held_r.fd, &c, 1)), "read") != 1)
            throw std::runtime_error("the holder ended before it took the lock");
        struct flock fl = kWholeFile, query = kWholeFile;
        const bool refused =
            ::fcntl(file.fd, F_SETLK, &fl) == -1 && (errno == EAGAIN || errno == EACCES);
        std::cout << "fcntl: F_SETLK while another process holds the lock: "
                  << (refused ? "refused (EAGAIN)\n" : "GRANTED?!\n");
        check(::fcntl(file.fd, F_GETLK, &query), "fcntl(F_GETLK)");
        const bool named = query.l_type == F_WRLCK && query.l_pid == holder.pid;
        std::cout << "fcntl: F_GETLK names the holder: " << (named ? "yes, our child\n" : "NO\n");
        check(::kill(holder.pid, SIGKILL), "kill");  // the holder crashes, lock held
        int status = 0;
        check(::waitpid(holder.pid, &status, 0), "waitpid");
        holder.pid = -1;
        fl = kWholeFile;
        const bool granted = ::fcntl(file.fd, F_SETLK, &fl) == 0;
        std::cout << "fcntl: after the holder was killed, F_SETLK: "
                  << (granted ? "granted\n" : "REFUSED\n");
        return refused && named && granted && WIFSIGNALED(status) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "file_fcntl: " << e.what() << '\n';
        return 1;
    }
}
