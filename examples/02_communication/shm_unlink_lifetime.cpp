// shm_unlink_lifetime.cpp - shm_unlink() removes the NAME, not the memory:
// a process that has it mapped keeps using it; nobody can attach any more.
// Python: shm.unlink() in one process; another's shm.buf still works.
#include <fcntl.h>
#include <sys/mman.h>
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

// Owns the NAME until it is unlinked: /dev/shm is clean however we leave.
struct ShmName {
    std::string name;
    ~ShmName() { if (!name.empty()) ::shm_unlink(name.c_str()); }
};

// Maps the object open on fd; the mapping keeps the object alive, so the
// descriptor is closed at once.
struct Mapping {
    Mapping(int fd, size_t n) : size(n) {
        addr = static_cast<char*>(::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
        int err = errno;
        ::close(fd);
        if (addr == MAP_FAILED) throw std::system_error(err, std::generic_category(), "mmap");
    }
    Mapping(const Mapping&) = delete;
    ~Mapping() { ::munmap(addr, size); }
    char* addr;
    size_t size;
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        const std::string path = "/shm_unlink_lifetime-" + std::to_string(::getpid());
        ShmName name{path};
        int fd = check(::shm_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        if (::ftruncate(fd, 4096) == -1) {   // a new object has size 0
            int err = errno;
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "ftruncate");
        }
        Mapping shm(fd, 4096);
        std::strcpy(shm.addr, "written before the unlink");

        check(::shm_unlink(path.c_str()), "shm_unlink");
        name.name.clear();               // unlinked: nothing left to remove
        const bool gone = ::shm_open(path.c_str(), O_RDWR, 0) == -1 && errno == ENOENT;
        std::printf("after shm_unlink: shm_open by name fails with %s\n",
                    gone ? "ENOENT" : "no error (unexpected)");
        std::strcat(shm.addr, ", and after it");   // the pages are still ours
        std::printf("our mapping still reads and writes: \"%s\"\n", shm.addr);
        const bool ok = gone && std::strcmp(shm.addr, "written before the unlink, and after it") == 0;
        std::printf("%s\n", ok ? "the memory lives until the last mapping goes away" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shm_unlink_lifetime: %s\n", e.what());
        return 1;
    }
}
