// shm_basics.cpp — named POSIX shared memory: create, attach by name, unlink.
// Python: SharedMemory(name=..., create=True, size=...), SharedMemory(name=...),
//         shm.close(), shm.unlink().
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "shm_basics";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// A mapping of a shared-memory object. The destructor is Python's close():
/// it unmaps this process's view but leaves the object and its name alone.
class SharedMemory {
public:
    /// Creates a new object (fails with EEXIST if the name is taken).
    static SharedMemory create(const std::string& name, size_t size) {
        int fd = check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        return sized(fd, name, size);
    }
    /// Gives a freshly created object (size 0) its size and maps it.
    static SharedMemory sized(int fd, const std::string& name, size_t size) {
        if (::ftruncate(fd, static_cast<off_t>(size)) == -1) {  // a new object has size 0
            int err = errno;             // close() and shm_unlink() may change errno
            ::close(fd);
            ::shm_unlink(name.c_str());
            throw std::system_error(err, std::generic_category(), "ftruncate");
        }
        return SharedMemory(fd, size);
    }
    /// Attaches to an existing object; its size comes from fstat(). The name
    /// exists from the creator's shm_open(), but the size only from its
    /// ftruncate(): until then the size is 0 and mmap() fails. So a nonzero
    /// size is the "ready" signal, and we wait for it -- with a time-out.
    static SharedMemory attach(const std::string& name) {
        int fd = check(::shm_open(name.c_str(), O_RDWR, 0), "shm_open(attach)");
        struct stat st{};
        for (int tries = 0; check(::fstat(fd, &st), "fstat") == 0 && st.st_size == 0; ++tries) {
            if (tries == 1000) {
                ::close(fd);
                throw std::runtime_error("shm_open(attach): still size 0 after 1 s");
            }
            ::usleep(1000);
        }
        return SharedMemory(fd, static_cast<size_t>(st.st_size));
    }
    SharedMemory(SharedMemory&& o) noexcept
        : addr_(std::exchange(o.addr_, nullptr)), size_(o.size_) {}
    ~SharedMemory() { if (addr_) ::munmap(addr_, size_); }
    char* data() const { return static_cast<char*>(addr_); }
    size_t size() const { return size_; }
private:
    SharedMemory(int fd, size_t size) : size_(size) {
        addr_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        int err = errno;
        ::close(fd);                     // the mapping keeps the object alive
        if (addr_ == MAP_FAILED) throw std::system_error(err, std::generic_category(), "mmap");
    }
    void* addr_ = nullptr;
    size_t size_ = 0;
};

/// Owns the NAME: unlinks it on destruction (Python's unlink(), done once
/// by the creator), so /dev/shm is clean even if we fail half-way.
class ShmName {
public:
    explicit ShmName(std::string name) : name_(std::move(name)) {}
    ~ShmName() { if (!name_.empty()) ::shm_unlink(name_.c_str()); }
    ShmName(const ShmName&) = delete;
    void unlink_now() { check(::shm_unlink(name_.c_str()), "shm_unlink"); name_.clear(); }
    const std::string& str() const { return name_; }
private:
    std::string name_;
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

/// Create-or-attach: O_EXCL lets exactly one process create. That alone is not
/// race-free: the loser may open the object before the winner's ftruncate(),
/// which is why attach() waits for a nonzero size.
std::pair<SharedMemory, bool> open_or_create(const std::string& name, size_t size) {
    int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd != -1) return {SharedMemory::sized(fd, name, size), true};
    if (errno != EEXIST) check(-1, "shm_open");
    return {SharedMemory::attach(name), false};
}

bool exists_in_dev_shm(const std::string& name) {
    return ::access(("/dev/shm" + name).c_str(), F_OK) == 0;
}

// Knows only the name, like an unrelated program would.
int child_attaches(const std::string& name) {
    SharedMemory shm = SharedMemory::attach(name);
    std::printf("child: attached %zu bytes by name, read \"%s\"\n", shm.size(), shm.data());
    std::strcpy(shm.data() + 100, "reply from the child");
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: shm_basics\n"); return 2; }
    try {
        const std::string shm_name = "/shm_basics-" + std::to_string(::getpid());
        ShmName name(shm_name);
        SharedMemory shm = SharedMemory::create(name.str(), 4096);
        std::strcpy(shm.data(), "hello from the creator");
        std::printf("created %zu bytes; visible as a file in /dev/shm: %s\n", shm.size(),
                    exists_in_dev_shm(name.str()) ? "yes" : "no");

        Child child([&] { return child_attaches(name.str()); });
        bool ok = child.wait() == 0;
        std::printf("parent: the child's write is visible here: \"%s\"\n", shm.data() + 100);
        ok = ok && std::strcmp(shm.data() + 100, "reply from the child") == 0;

        auto [again, created] = open_or_create(name.str(), 4096);
        std::printf("open_or_create on the same name: %s\n",
                    created ? "created (unexpected)" : "attached to the existing object");
        ok = ok && !created && std::strcmp(again.data(), "hello from the creator") == 0;

        name.unlink_now();
        int fd = ::shm_open(shm_name.c_str(), O_RDWR, 0);
        std::printf("after shm_unlink: shm_open by name fails with %s, "
                    "but our mapping still reads \"%s\"\n",
                    fd == -1 && errno == ENOENT ? "ENOENT" : "no error (unexpected)", shm.data());
        bool gone = fd == -1 && !exists_in_dev_shm(shm_name);
        if (fd != -1) ::close(fd);
        ok = ok && gone;
        std::printf("%s\n", ok ? "the memory lives until the last mapping goes away" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shm_basics: %s\n", e.what());
        return 1;
    }
}
