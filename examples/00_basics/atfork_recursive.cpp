// atfork_recursive.cpp - atfork_fixed's child handler unlocks its mutex: right only for
// a NORMAL mutex. A RECURSIVE or ERRORCHECK one (std::recursive_mutex is RECURSIVE)
// records its owner's thread ID; in the child the forking thread has a new ID, so the
// unlock fails with EPERM and the mutex stays locked. Re-initialise it there instead.
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

pthread_mutex_t g_mutex;               // PTHREAD_MUTEX_RECURSIVE, made by init_mutex()
int g_unlock_err = 0, g_trylock_err = 0;  // what the child handler saw

int init_mutex() {  // returns an error number, like pthread_mutex_init
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    const int err = pthread_mutex_init(&g_mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    return err;
}

extern "C" void prepare() { pthread_mutex_lock(&g_mutex); }
extern "C" void in_parent() { pthread_mutex_unlock(&g_mutex); }
extern "C" void in_child() {
    g_unlock_err = pthread_mutex_unlock(&g_mutex);  // the recipe for a NORMAL mutex
    g_trylock_err = pthread_mutex_trylock(&g_mutex);  // still locked by the "old" thread?
    init_mutex();  // the fix: a fresh, unlocked mutex (the old one is only memory now)
}

const char* name(int e) { return e == 0 ? "0" : e == EPERM ? "EPERM" : e == EBUSY ? "EBUSY" : "?"; }

[[noreturn]] void child() noexcept {  // we have one thread: iostream is safe in the child
    std::cout << "child: unlock in the child handler -> " << name(g_unlock_err) << " ("
              << std::strerror(g_unlock_err) << ")\n"
              << "child: trylock right after it -> " << name(g_trylock_err)
              << (g_trylock_err == EBUSY ? ": the mutex stayed locked\n" : "\n");
    const int err = pthread_mutex_trylock(&g_mutex);  // after the re-initialisation
    std::cout << "child: after pthread_mutex_init, trylock -> " << name(err)
              << (err == 0 ? ": usable again ✓\n" : " ✗\n") << std::flush;
    _exit(err == 0 ? 0 : 1);
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        check_pt(init_mutex(), "pthread_mutex_init");
        check_pt(::pthread_atfork(prepare, in_parent, in_child), "pthread_atfork");
        std::cout << "parent: prepare() locks a RECURSIVE mutex, then fork()\n" << std::flush;
        Child c(check(::fork(), "fork"));
        if (c.pid == 0) child();
        int status = 0;  // the child ends by itself: it makes no blocking call
        check(::waitpid(std::exchange(c.pid, -1), &status, 0), "waitpid");
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        std::cout << "parent: the child " << (ok ? "exited with 0 ✓" : "failed ✗") << '\n';
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "atfork_recursive: " << e.what() << '\n';
        return 1;
    }
}
