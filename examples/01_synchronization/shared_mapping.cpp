// shared_mapping.cpp - after fork() parent and child have separate copies of
// memory, so a write in one is invisible to the other. A MAP_SHARED mapping
// made *before* fork() is the exception: both processes see the same bytes.
// Every lock in this chapter lives in such a mapping.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <iostream>
#include <new>
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

// Owns an anonymous shared mapping: zero-filled memory that fork() shares
// instead of copying. (Python: the buffer behind multiprocessing.Value.)
class SharedMapping {
public:
    explicit SharedMapping(std::size_t size) : size_(size) {
#ifndef BREAK_MAP_PRIVATE  // "Break it" on the page: build with -DBREAK_MAP_PRIVATE
        const int flags = MAP_SHARED | MAP_ANONYMOUS;
#else
        const int flags = MAP_PRIVATE | MAP_ANONYMOUS;
#endif
        addr_ = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (addr_ == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    }
    ~SharedMapping() { ::munmap(addr_, size_); }
    SharedMapping(const SharedMapping&) = delete;
    void* get() const { return addr_; }

private:
    void* addr_;
    std::size_t size_;
};

struct Counter { int value = 0; };

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Counter private_counter;                   // ordinary memory: copied by fork()
        SharedMapping mapping(sizeof(Counter));
        Counter* shared = new (mapping.get()) Counter{};  // build the object in the mapping

        std::cout.flush();  // else the child inherits our buffer and prints it again
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {  // the child: it only writes, then ends here
            private_counter.value = 42;
            shared->value = 42;
            _exit(0);
        }
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // the child ends by itself
        child.pid = -1;  // reaped
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("the child failed");
        std::cout << "child wrote 42 to both counters\n"
                  << "private counter in the parent: " << private_counter.value
                  << " (fork gave the child its own copy)\n"
                  << "shared counter in the parent:  " << shared->value
                  << " (MAP_SHARED: one page, two processes)\n";
        return private_counter.value == 0 && shared->value == 42 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "shared_mapping: " << e.what() << '\n';
        return 1;
    }
}
