// joinable_queue.cpp - Python's JoinableQueue: a queue plus a shared count of
// unfinished tasks. put() adds one, task_done() takes one away, join() waits
// until it is zero (Py: q.put(t); q.task_done(); q.join()). The tasks travel in a
// pipe; the count lives in a shared mapping with a process-shared mutex and
// condition variable.
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <deque>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pthread(int err, const char* what) {
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// The shared part: what every process sees through one MAP_SHARED mapping.
struct Counter {
    pthread_mutex_t lock;
    pthread_cond_t all_done;  // signalled when unfinished drops to 0
    int unfinished;
};

class JoinableQueue {
public:
    JoinableQueue() {
        void* p = ::mmap(nullptr, sizeof(Counter), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);  // inherited by fork()
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        c_ = static_cast<Counter*>(p);
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);  // else: one process only
        check_pthread(pthread_mutex_init(&c_->lock, &ma), "pthread_mutex_init");
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        check_pthread(pthread_cond_init(&c_->all_done, &ca), "pthread_cond_init");
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        read_.fd = fds[0];
        write_.fd = fds[1];
    }
    ~JoinableQueue() { ::munmap(c_, sizeof(Counter)); }

    void put(int task) {  // count first: join() must never see 0 while a task is in flight
        add(+1);
        // 4 bytes <= PIPE_BUF: one write() is never interleaved with another writer's.
        check(static_cast<int>(::write(write_.fd, &task, sizeof task)), "write");
    }
    bool get(int& task) {  // false at end-of-file: every writer has closed
        return check(static_cast<int>(::read(read_.fd, &task, sizeof task)), "read") ==
               sizeof task;
    }
    void task_done() { add(-1); }
    bool join(int timeout_ms) {  // true when every task is done; false on time-out
        timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) { ++deadline.tv_sec; deadline.tv_nsec -= 1000000000L; }
        check_pthread(pthread_mutex_lock(&c_->lock), "pthread_mutex_lock");
        int err = 0;
        while (c_->unfinished > 0 && err == 0)  // a dead worker never calls task_done()
            err = pthread_cond_timedwait(&c_->all_done, &c_->lock, &deadline);
        const bool done = c_->unfinished == 0;
        pthread_mutex_unlock(&c_->lock);
        return done;
    }
    void close_writer() { write_.close(); }  // the workers then see end-of-file

private:
    void add(int n) {
        check_pthread(pthread_mutex_lock(&c_->lock), "pthread_mutex_lock");
        const int now = c_->unfinished + n;
        if (now < 0) {  // Py: ValueError('task_done() called too many times')
            pthread_mutex_unlock(&c_->lock);
            throw std::logic_error("task_done() called too many times");
        }
        c_->unfinished = now;
        if (now == 0) pthread_cond_broadcast(&c_->all_done);
        pthread_mutex_unlock(&c_->lock);
    }
    Counter* c_;
    Fd read_, write_;
};

int worker(JoinableQueue& q) {  // Py: while True: t = q.get(); ...; q.task_done()
    q.close_writer();           // our copy would keep end-of-file from ever coming
    int task, handled = 0;
    while (q.get(task)) {
        ::usleep(1000 * (task % 3));  // "work"
        ++handled;
        q.task_done();
    }
    return handled;  // the exit code says how many tasks this worker did
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        JoinableQueue q;
        std::deque<Child> workers;  // a deque: a Child never moves
        for (int i = 0; i < 3; ++i) {
            std::cout.flush();
            workers.emplace_back(check(::fork(), "fork"));
            if (workers.back().pid == 0) {  // the child ends here, whatever happens
                int code = 255;
                try { code = worker(q); } catch (...) {}
                _exit(code);
            }
        }
        const int tasks = 12;
        for (int t = 0; t < tasks; ++t) q.put(t);
        const bool joined = q.join(5000);  // bounded: a worker may have died
        std::cout << "join() returned: " << (joined ? "all " : "NOT all ") << tasks
                  << " tasks done, workers still running\n";
        bool refused = false;
        try { q.task_done(); } catch (const std::logic_error& e) {
            refused = true;
            std::cout << "one task_done() too many: " << e.what() << '\n';
        }
        q.close_writer();  // now the workers' get() sees end-of-file
        int total = 0;
        for (auto& w : workers) {
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");  // they end: EOF has come
            w.pid = -1;
            if (WIFEXITED(status) && WEXITSTATUS(status) != 255) total += WEXITSTATUS(status);
        }
        std::cout << "the workers handled " << total << " of " << tasks << " tasks\n";
        return (joined && refused && total == tasks) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "joinable_queue: " << e.what() << '\n';
        return 1;
    }
}
