// semaphores.cpp — the two kinds of POSIX semaphore, both between processes.
//   1. Unnamed: a sem_t placed in shared memory and initialised with pshared = 1.
//      Children that inherit the mapping use it; here they signal "done".
//   2. Named: sem_open("/name") — any process that knows the name can open it;
//      it lives in /dev/shm until sem_unlink() removes the name.
//
// Python: multiprocessing.Semaphore is an unnamed-style semaphore that children
// inherit; there is no name another program could open.
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr int kChildren = 3;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

/// An unnamed semaphore in its own anonymous MAP_SHARED mapping.
class UnnamedSemaphore {
public:
    explicit UnnamedSemaphore(unsigned initial) {
        void* p = mmap(nullptr, sizeof(sem_t), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        sem_ = static_cast<sem_t*>(p);
        // pshared = 1: the semaphore is used by several processes. It must then
        // live in memory they all share — a sem_t on the stack would be copied.
        check(sem_init(sem_, 1, initial), "sem_init");
    }
    ~UnnamedSemaphore() {
        sem_destroy(sem_);
        munmap(sem_, sizeof(sem_t));
    }
    UnnamedSemaphore(const UnnamedSemaphore&) = delete;
    UnnamedSemaphore& operator=(const UnnamedSemaphore&) = delete;

    void post() { check(sem_post(sem_), "sem_post"); }
    /// Waits at most `seconds`; false on time-out. A real program never waits
    /// forever for another process: that process may have died.
    bool wait_for(int seconds) {
        timespec deadline{};
        check(clock_gettime(CLOCK_REALTIME, &deadline), "clock_gettime");
        deadline.tv_sec += seconds;  // sem_timedwait only knows CLOCK_REALTIME
        while (sem_timedwait(sem_, &deadline) == -1) {
            if (errno == ETIMEDOUT) return false;
            if (errno != EINTR) die("sem_timedwait");
        }
        return true;
    }

private:
    sem_t* sem_;
};

/// A named semaphore that this program created and will unlink.
class NamedSemaphore {
public:
    NamedSemaphore(std::string name, unsigned initial) : name_(std::move(name)) {
        // O_EXCL: fail rather than silently reuse a semaphore left by someone else.
        sem_ = sem_open(name_.c_str(), O_CREAT | O_EXCL, 0600, initial);
        if (sem_ == SEM_FAILED) die("sem_open");
    }
    ~NamedSemaphore() {
        sem_close(sem_);
        unlink();
    }
    NamedSemaphore(const NamedSemaphore&) = delete;
    NamedSemaphore& operator=(const NamedSemaphore&) = delete;

    /// Removes the name; processes that have it open keep using it.
    void unlink() {
        if (!unlinked_ && sem_unlink(name_.c_str()) == -1) die("sem_unlink");
        unlinked_ = true;
    }

private:
    std::string name_;
    sem_t* sem_;
    bool unlinked_ = false;
};

int wait_child(pid_t pid) {
    int status = 0;
    check(waitpid(pid, &status, 0), "waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool demo_unnamed() {
    UnnamedSemaphore done(0);  // starts at 0: "nothing finished yet"
    std::vector<pid_t> children;
    for (int i = 0; i < kChildren; ++i) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            done.post();  // "my work is finished"
            std::exit(0);
        }
        children.push_back(pid);
    }
    int received = 0;
    while (received < kChildren && done.wait_for(5)) ++received;
    for (pid_t pid : children) wait_child(pid);
    std::cout << "unnamed sem_t: parent received " << received << " posts from "
              << kChildren << " children\n";
    return received == kChildren;
}

/// What another program would do: open the semaphore by name and use it.
int count_available(const std::string& name) {
    sem_t* sem = sem_open(name.c_str(), 0);  // no O_CREAT: it must already exist
    if (sem == SEM_FAILED) return 100;
    int taken = 0;
    while (sem_trywait(sem) == 0) ++taken;          // EAGAIN when the count is 0
    for (int i = 0; i < taken; ++i) sem_post(sem);  // give them back
    sem_close(sem);
    return taken;
}

bool shm_entry_exists(const std::string& name) {
    struct stat st {};
    // glibc keeps a named semaphore "/x" as the file /dev/shm/sem.x
    return stat(("/dev/shm/sem." + name.substr(1)).c_str(), &st) == 0;
}

bool demo_named() {
    const std::string name = "/ch01_semaphores_" + std::to_string(getpid());
    NamedSemaphore sem(name, 2);
    bool visible = shm_entry_exists(name);
    std::cout << "named semaphore created with value 2; /dev/shm entry exists: "
              << (visible ? "yes" : "no") << '\n';

    std::cout.flush();
    pid_t pid = check(fork(), "fork");
    if (pid == 0) std::exit(count_available(name));
    int taken = wait_child(pid);
    std::cout << "another process opened it by name and could take " << taken
              << " units (expected 2)\n";

    sem.unlink();
    bool gone = !shm_entry_exists(name);
    std::cout << "after sem_unlink the name is gone: " << (gone ? "yes" : "no") << '\n';
    return visible && taken == 2 && gone;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    bool ok = demo_unnamed();
    ok = demo_named() && ok;
    return ok ? 0 : 1;
}
