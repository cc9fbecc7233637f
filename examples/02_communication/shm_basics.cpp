// shm_basics.cpp - named POSIX shared memory: create, attach by name, unlink (what
// unlink does NOT end: shm_unlink_lifetime.cpp). Python: SharedMemory(name=...,
// create=True, size=...), SharedMemory(name=...), shm.close(), shm.unlink().
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child { ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); } pid_t pid = -1; };

// Owns the NAME (Python's unlink(), done once, by the creator): clean however we leave.
struct ShmName { std::string name; ~ShmName() { ::shm_unlink(name.c_str()); } };

// Maps the object open on fd; the destructor is Python's close(). The mapping
// keeps the object alive, so the descriptor is closed at once.
struct Mapping {
    Mapping(int fd, size_t n) : size(n) {
        addr = static_cast<char*>(::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        int err = errno;
        ::close(fd);
        if (addr == MAP_FAILED) throw std::system_error(err, std::generic_category(), "mmap");
    }
    Mapping(const Mapping&) = delete;
    ~Mapping() { ::munmap(addr, size); }
    char* addr; size_t size;
};

// The child knows only the name, like an unrelated program would.
int attach_and_reply(const char* name) {
    int fd = check(::shm_open(name, O_RDWR, 0), "shm_open");
    struct stat st{}; check(::fstat(fd, &st), "fstat");   // the size comes from the object
    Mapping shm(fd, static_cast<size_t>(st.st_size));
    std::printf("child: attached %zu bytes by name, read \"%s\"\n", shm.size, shm.addr);
    std::strcpy(shm.addr + 100, "reply from the child");
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        ShmName name{"/shm_basics-" + std::to_string(::getpid())};
        // O_EXCL: fail rather than share a stale object of the same name.
        int fd = check(::shm_open(name.name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        int rc = ::ftruncate(fd, 4096), err = errno;   // a new object has size 0
        if (rc == -1) { ::close(fd); throw std::system_error(err, std::generic_category(), "ftruncate"); }
        Mapping shm(fd, 4096);
        std::strcpy(shm.addr, "hello from the creator");
        std::printf("created 4096 bytes; visible as a file in /dev/shm: %s\n",
                    ::access(("/dev/shm" + name.name).c_str(), F_OK) == 0 ? "yes" : "no");
        std::fflush(stdout);             // else the child prints our buffer again
        Child child{check(::fork(), "fork")};
        if (child.pid == 0) {            // the child ends here, whatever happens
            int code = 1;
            try { code = attach_and_reply(name.name.c_str()); } catch (const std::exception& e) {
                std::fprintf(stderr, "shm_basics (child): %s\n", e.what());
            } catch (...) {}
            std::fflush(stdout); _exit(code);   // _exit() flushes no stdio buffer
        }
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid"); child.pid = -1;  // reaped
        std::printf("parent: the child's write is visible here: \"%s\"\n", shm.addr + 100);
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                        std::strcmp(shm.addr + 100, "reply from the child") == 0;
        std::printf("%s\n", ok ? "two processes, one object, found by name" : "FAILED");
        // ~ShmName: shm_unlink() removes the name; ~Mapping: munmap() our view.
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shm_basics: %s\n", e.what());
        return 1;
    }
}
