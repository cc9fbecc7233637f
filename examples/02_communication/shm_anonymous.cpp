// shm_anonymous.cpp - shared memory without a name: an anonymous MAP_SHARED
// mapping made BEFORE fork() is shared by parent and child. Ordinary memory
// (and MAP_PRIVATE) is copied on write instead, so the parent never sees the
// child's changes.
// Python: with the fork start method, globals behave like the private case.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// One anonymous long (its pages start zeroed); unmapped by the destructor.
struct Mapping {
    explicit Mapping(int sharing) {
        void* p = ::mmap(nullptr, sizeof(long), PROT_READ | PROT_WRITE, sharing | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        value = static_cast<long*>(p);
    }
    Mapping(const Mapping&) = delete;
    ~Mapping() { ::munmap(value, sizeof(long)); }
    long* value;
};

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

long ordinary_global = 0;

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        Mapping shared(MAP_SHARED);      // both made before fork()
        Mapping priv(MAP_PRIVATE);
        std::fflush(stdout);             // else the child prints our buffer again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {            // the child: three plain stores, then _exit
            *shared.value = 42;
            *priv.value = 42;
            ordinary_global = 42;
            _exit(0);
        }
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;                  // reaped
        std::printf("child wrote 42 into all three; the parent now reads:\n");
        std::printf("MAP_SHARED | MAP_ANONYMOUS : %ld  (one copy, shared)\n", *shared.value);
        std::printf("MAP_PRIVATE | MAP_ANONYMOUS: %ld  (copied on write)\n", *priv.value);
        std::printf("an ordinary global         : %ld  (copied on write)\n", ordinary_global);
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && *shared.value == 42 &&
                        *priv.value == 0 && ordinary_global == 0;
        std::printf("%s\n", ok ? "only the MAP_SHARED mapping carries data back to the parent"
                               : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shm_anonymous: %s\n", e.what());
        return 1;
    }
}
