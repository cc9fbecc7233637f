// shm_anonymous.cpp — shared memory without a name: an anonymous MAP_SHARED
// mapping made BEFORE fork() is shared by parent and child. Ordinary memory
// (and MAP_PRIVATE) is copied on write instead, so the parent never sees the
// child's changes.
// Python: with the fork start method, globals behave like the private case.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "shm_anonymous";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// An anonymous mapping of one T; unmapped by the destructor.
template <class T> class Mapping {
public:
    explicit Mapping(int sharing) {
        void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, sharing | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        ptr_ = new (p) T{};              // anonymous pages start zeroed
    }
    ~Mapping() { ::munmap(ptr_, sizeof(T)); }
    Mapping(const Mapping&) = delete;
    T& operator*() const { return *ptr_; }
private:
    T* ptr_;
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

long ordinary_global = 0;

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: shm_anonymous\n"); return 2; }
    try {
        Mapping<long> shared(MAP_SHARED);    // both made before fork()
        Mapping<long> priv(MAP_PRIVATE);

        Child child([&] {
            *shared = 42;
            *priv = 42;
            ordinary_global = 42;
            return 0;
        });
        bool ok = child.wait() == 0;

        std::printf("child wrote 42 into all three; the parent now reads:\n");
        std::printf("MAP_SHARED | MAP_ANONYMOUS : %ld  (one copy, shared)\n", *shared);
        std::printf("MAP_PRIVATE | MAP_ANONYMOUS: %ld  (copied on write)\n", *priv);
        std::printf("an ordinary global         : %ld  (copied on write)\n", ordinary_global);
        ok = ok && *shared == 42 && *priv == 0 && ordinary_global == 0;
        std::printf("%s\n", ok ? "only the MAP_SHARED mapping carries data back to the parent"
                               : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shm_anonymous: %s\n", e.what());
        return 1;
    }
}
