// memfd_seal.cpp - memfd_create makes shared memory with no name at all (nothing
// in /dev/shm to squat or leak). Before handing it to a peer we do not trust, we
// seal it: F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and finally F_SEAL_SEAL. The
// peer (here a forked child; in real life it gets the descriptor over a Unix
// socket, chapter 2) can read it but can neither change nor resize it, and
// cannot remove the seals.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Owns a descriptor.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { ::close(fd); }
    int fd;
};

constexpr char kConfig[] = "max_workers=4";

// A call the seals must refuse with EPERM; any other failure is thrown.
bool refused(int rc, const char* what) {
    if (rc != -1) { std::cout << "  peer: " << what << " succeeded ✗\n"; return false; }
    if (errno != EPERM) check(rc, what);
    std::cout << "  peer: " << what << ": " << std::strerror(errno) << " ✓\n";
    return true;
}

// The untrusted peer: tries to change what it was given.
int peer(int fd) {
    int ok = refused(static_cast<int>(::pwrite(fd, "max_workers=999", 15, 0)), "write");
    ok += refused(::ftruncate(fd, 0), "ftruncate");
    void* w = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ok += refused(w == MAP_FAILED ? -1 : 0, "mmap(PROT_WRITE, MAP_SHARED)");
    ok += refused(::fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), "fcntl(F_ADD_SEALS)");
    void* r = ::mmap(nullptr, sizeof kConfig, PROT_READ, MAP_SHARED, fd, 0);
    if (r == MAP_FAILED) check(-1, "mmap");
    std::cout << "  peer: reads \"" << static_cast<const char*>(r) << "\"\n";
    return ok == 4 ? 0 : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Fd memfd(check(::memfd_create("config", MFD_CLOEXEC | MFD_ALLOW_SEALING),
                       "memfd_create"));
        const int fd = memfd.fd;
        check(static_cast<int>(::write(fd, kConfig, sizeof kConfig)), "write");
        check(::fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL),
              "fcntl(F_ADD_SEALS)");
        const int seals = check(::fcntl(fd, F_GET_SEALS), "fcntl(F_GET_SEALS)");
        std::cout << "sealed:" << (seals & F_SEAL_WRITE ? " WRITE" : "")
                  << (seals & F_SEAL_SHRINK ? " SHRINK" : "") << (seals & F_SEAL_GROW ? " GROW" : "")
                  << (seals & F_SEAL_SEAL ? " SEAL" : "") << '\n';

        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {  // the child ends here, whatever happens
            int code = 1;
            try { code = peer(fd); } catch (const std::exception& e) {
                std::cout << "memfd_seal: " << e.what() << '\n';
            }
            std::cout.flush();
            _exit(code);
        }
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // the peer ends by itself
        child.pid = -1;
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "the peer could change nothing: " << (ok ? "yes ✓" : "no ✗") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "memfd_seal: " << e.what() << '\n';
        return 1;
    }
}
