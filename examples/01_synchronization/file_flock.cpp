// file_flock.cpp - a lock that needs no shared memory: four processes open a
// file by its path, as unrelated programs would, and increment a number stored
// in it, each increment under flock(LOCK_EX). Python: fcntl.flock(); a
// multiprocessing.Lock cannot be shared with a process your program did not start.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <system_error>

namespace {
constexpr int kWorkers = 4, kIncrements = 200;  // increments per worker
// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};
struct Fd {  // owns a file descriptor
    ~Fd() { ::close(fd); }
    int fd;
};

long read_number(int fd) {  // the file holds one long, at offset 0
    long n = 0;
    check(static_cast<int>(::pread(fd, &n, sizeof n, 0)), "pread");
    return n;
}
void write_number(int fd, long n) {
    check(static_cast<int>(::pwrite(fd, &n, sizeof n, 0)), "pwrite");
}

// One "unrelated" worker: it shares nothing with the others but the path.
int worker(const char* path) {
    Fd f{check(::open(path, O_RDWR | O_CLOEXEC), "open")};
    for (int i = 0; i < kIncrements; ++i) {
        check(::flock(f.fd, LOCK_EX), "flock");  // waits while another holds it
        write_number(f.fd, read_number(f.fd) + 1);
        check(::flock(f.fd, LOCK_UN), "flock");
    }
    return 0;  // closing the file would also have dropped a lock still held
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        char path[] = "/tmp/file_flock_XXXXXX";
        Fd file{check(::mkstemp(path), "mkstemp")};
        struct Unlink { const char* p; ~Unlink() { ::unlink(p); } } unlink_at_end{path};
        write_number(file.fd, 0);
        Child workers[kWorkers];  // if a fork fails, the started ones are killed
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = worker(path); } catch (const std::exception& e) {
                    std::cerr << "file_flock (worker): " << e.what() << '\n';
                }
                _exit(code);
            }
        }
        bool ok = true;
        for (Child& w : workers) {  // each worker ends by itself
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        const long n = read_number(file.fd), expected = kWorkers * kIncrements;
        std::cout << "flock: " << kWorkers << " processes opened the file by name; number = "
                  << n << " (expected " << expected << ")"
                  << (n == expected ? ": no lost updates\n" : ": UPDATES LOST\n");
        return ok && n == expected ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "file_flock: " << e.what() << '\n';
        return 1;
    }
}
