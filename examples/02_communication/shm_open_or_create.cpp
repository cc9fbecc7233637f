// shm_open_or_create.cpp - two processes race to "create it unless it exists".
// O_CREAT | O_EXCL lets exactly one win (Python: FileExistsError for the loser), but
// the name exists from its shm_open(), the size only from its ftruncate(), the
// contents once written: the loser waits for a nonzero size, then for a ready flag.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
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
// In memory two processes share, an atomic must be lock-free: a library lock is per process.
static_assert(std::atomic<int>::is_always_lock_free);
struct Block { std::atomic<int> ready; char text[60]; };   // ready is set LAST by the creator

// Polls `done` every millisecond for at most one second.
template <class Done> void wait_for(Done done, const char* what) {
    for (int ms = 0; !done(); ++ms, ::usleep(1000))
        if (ms == 1000) throw std::runtime_error(std::string(what) + ": not ready after 1 s");
}

// Creates the object, slowly, or attaches to it; prints what it saw.
int open_or_create(const char* name, const char* who) {
    int fd = ::shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    const bool creator = fd != -1;
    if (!creator && errno != EEXIST) check(-1, "shm_open");
    if (creator) ::usleep(100'000);      // a slow creator: the window is 100 ms wide
    if (creator) check(::ftruncate(fd, sizeof(Block)), "ftruncate");
    else fd = check(::shm_open(name, O_RDWR, 0), "shm_open");
    struct stat st{}; check(::fstat(fd, &st), "fstat");
    const bool was_empty = st.st_size == 0;   // touching a mapping of it now: SIGBUS
    wait_for([&] { return check(::fstat(fd, &st), "fstat") == 0 && st.st_size > 0; }, "size");
    auto* block = static_cast<Block*>(::mmap(nullptr, sizeof(Block), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
    if (block == MAP_FAILED) check(-1, "mmap");   // zero-filled by ftruncate: ready == 0
    ::close(fd);                         // the mapping keeps the object alive
    if (creator) {
        std::strcpy(block->text, "hello from the creator");
        block->ready.store(1, std::memory_order_release);   // publish: text first
        std::printf("%s: created it, sized it 100 ms later, set ready\n", who);
    } else {
        wait_for([&] { return block->ready.load(std::memory_order_acquire) == 1; }, "ready");
        std::printf("%s: attached (size 0 at first: %s), then read \"%s\"\n", who,
                    was_empty ? "yes" : "no", block->text);
    }
    ::munmap(block, sizeof(Block));
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    const std::string name = "/shm_open_or_create-" + std::to_string(::getpid());
    try {
        Child child{check(::fork(), "fork")};
        if (child.pid == 0) {            // the child ends here, whatever happens
            int code = 1;
            try { code = open_or_create(name.c_str(), "child "); } catch (const std::exception& e) {
                std::fprintf(stderr, "shm_open_or_create (child): %s\n", e.what());
            } catch (...) {}
            std::fflush(stdout); _exit(code);   // _exit() flushes no stdio buffer
        }
        int code = open_or_create(name.c_str(), "parent"), status = 0;   // the same call, at once
        check(::waitpid(child.pid, &status, 0), "waitpid"); child.pid = -1;  // reaped
        ::shm_unlink(name.c_str());      // whoever created it, the parent removes the name
        const bool ok = code == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::printf("%s\n", ok ? "one creator; the other waited for the size and the ready flag" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        ::shm_unlink(name.c_str());      // may not exist: then this fails, harmlessly
        std::fprintf(stderr, "shm_open_or_create: %s\n", e.what());
        return 1;
    }
}
