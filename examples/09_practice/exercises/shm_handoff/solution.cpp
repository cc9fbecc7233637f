// shm_handoff (exercise, reference solution) - a child leaves a message in a
// named shared-memory object; the parent reads it. The name is created
// exclusively, readable by us alone, and removed whatever happens.
// Python: shared_memory.SharedMemory(create=True) ... shm.unlink().
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

namespace {

constexpr size_t kSize = 4096;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct SharedMemory {  // owns the name, the descriptor and the mapping
    std::string name = "/shm_handoff." + std::to_string(::getpid());
    int fd;
    char* data;
    SharedMemory() {
        // O_EXCL: never open an object someone else made; 0600: nobody else reads it.
        fd = check(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), "shm_open");
        try {
            check(::ftruncate(fd, kSize), "ftruncate");
            void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
            data = static_cast<char*>(p);
        } catch (...) {
            ::close(fd);
            ::shm_unlink(name.c_str());
            throw;
        }
    }
    ~SharedMemory() {
        ::munmap(data, kSize);
        ::close(fd);
        ::shm_unlink(name.c_str());  // the name would outlive us otherwise
    }
};

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        std::string name;
        {
            SharedMemory shm;
            name = shm.name;
            std::cout.flush();  // the child must not inherit unprinted output
            Child child;
            child.pid = check(::fork(), "fork");
            if (child.pid == 0) {  // the child writes and ends here: never back in main
                std::snprintf(shm.data, kSize, "hello from the child");
                _exit(0);
            }
            int status = 0;
            check(::waitpid(child.pid, &status, 0), "waitpid");
            child.pid = -1;  // reaped
            const std::string message(shm.data, ::strnlen(shm.data, kSize));  // bounded
            std::cout << "parent read: " << message << '\n';
        }  // ~SharedMemory: unmapped, closed, unlinked
        const bool gone = ::access(("/dev/shm" + name).c_str(), F_OK) == -1;
        std::cout << "name removed: " << (gone ? "yes" : "no") << '\n';
        return gone ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "shm_handoff: " << e.what() << '\n';
        return 1;
    }
}
