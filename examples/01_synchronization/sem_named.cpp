// sem_named.cpp - a named POSIX semaphore: sem_open("/name") creates it, any
// process that knows the name can open it, and it stays (in /dev/shm) until
// sem_unlink removes the name. Python's multiprocessing has no named semaphore.
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <string>
#include <system_error>

namespace {
// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Owns a named semaphore this program created: closed and unlinked when we leave
// (if main unlinked it already, the second sem_unlink fails with ENOENT: harmless).
struct NamedSemaphore {
    NamedSemaphore(std::string n, unsigned initial) : name(std::move(n)) {
        // O_EXCL: fail rather than silently reuse a semaphore someone else left.
        sem = ::sem_open(name.c_str(), O_CREAT | O_EXCL, 0600, initial);
        if (sem == SEM_FAILED) throw std::system_error(errno, std::generic_category(), "sem_open");
    }
    ~NamedSemaphore() { ::sem_close(sem); ::sem_unlink(name.c_str()); }
    NamedSemaphore(const NamedSemaphore&) = delete;
    std::string name;
    sem_t* sem;
};
// What an unrelated program would do: open the semaphore by name, count the
// units it can take without waiting, give them back.
int count_available(const std::string& name) {
    sem_t* sem = ::sem_open(name.c_str(), 0);  // no O_CREAT: it must exist
    if (sem == SEM_FAILED) throw std::system_error(errno, std::generic_category(), "sem_open");
    int taken = 0;
    while (::sem_trywait(sem) == 0) ++taken;  // fails with EAGAIN at 0
    for (int i = 0; i < taken; ++i) check(::sem_post(sem), "sem_post");
    ::sem_close(sem);
    return taken;
}

bool in_dev_shm(const std::string& name) {  // glibc keeps "/x" as /dev/shm/sem.x
    return ::access(("/dev/shm/sem." + name.substr(1)).c_str(), F_OK) == 0;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        NamedSemaphore sem("/sem_named_" + std::to_string(::getpid()), 2);
        const bool visible = in_dev_shm(sem.name);
        std::cout << "named semaphore created with value 2; /dev/shm entry exists: "
                  << (visible ? "yes" : "no") << '\n';
        std::cout.flush();  // else the child prints our buffer again
        Child child{check(::fork(), "fork")};
        if (child.pid == 0) {  // the child ends here, whatever happens
            int code = 100;
            try { code = count_available(sem.name); } catch (const std::exception& e) {
                std::cerr << "sem_named (child): " << e.what() << '\n';
            }
            _exit(code);
        }
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // the child ends by itself
        child.pid = -1;
        const int taken = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::cout << "another process opened it by name and could take " << taken
                  << " units (expected 2)\n";
        check(::sem_unlink(sem.name.c_str()), "sem_unlink");  // open handles stay valid
        const bool gone = !in_dev_shm(sem.name);
        std::cout << "after sem_unlink the name is gone: " << (gone ? "yes" : "no") << '\n';
        return visible && taken == 2 && gone ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sem_named: " << e.what() << '\n';
        return 1;
    }
}
