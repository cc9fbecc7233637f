// conditions.cpp - a process-shared condition variable (Python:
// multiprocessing.Condition). Three worker processes wait for a "ticket"; the
// parent hands out one at a time, with notify one (pthread_cond_signal) and
// notify all (pthread_cond_broadcast). POSIX promises that signal wakes *at
// least* one waiter and broadcast wakes all of them, and allows wake-ups for
// nothing: so every waiter re-checks its predicate in a loop, and the program
// checks only what POSIX promises.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <iostream>
#include <new>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

// ANCHOR: office
// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

timespec deadline_in(long ms) {  // an absolute CLOCK_MONOTONIC time
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1'000'000;
    if (t.tv_nsec >= 1'000'000'000) { t.tv_sec += 1; t.tv_nsec -= 1'000'000'000; }
    return t;
}

// Everything the processes share; every field is guarded by `mutex`. It is
// built in a MAP_SHARED mapping before fork() (see the first page).
struct TicketOffice {
    pthread_mutex_t mutex;
    pthread_cond_t ticket_ready;  // workers wait here for "tickets > 0"
    pthread_cond_t progress;      // the parent waits here for "a worker did something"
    int tickets = 0, waiting = 0, taken = 0;
    int empty_wakeups = 0;        // woke, re-checked, found no ticket

    TicketOffice() {
        pthread_mutexattr_t ma;
        check_pt(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED),
                 "pthread_mutexattr_setpshared");
        check_pt(pthread_mutex_init(&mutex, &ma), "pthread_mutex_init");
        pthread_condattr_t ca;
        check_pt(pthread_condattr_init(&ca), "pthread_condattr_init");
        check_pt(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED),
                 "pthread_condattr_setpshared");
        // Time-outs on the monotonic clock: setting the wall clock cannot move them.
        check_pt(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), "pthread_condattr_setclock");
        check_pt(pthread_cond_init(&ticket_ready, &ca), "pthread_cond_init");
        check_pt(pthread_cond_init(&progress, &ca), "pthread_cond_init");
    }
    // No destructor: glibc's pthread_cond_destroy waits for every waiter to
    // leave, and a worker killed while it waits never does. The memory goes
    // with the mapping.

    // Python's Condition.wait_for(predicate, timeout), the mutex held: re-check
    // after every wake-up, and return the predicate's value at the deadline.
    template <class Pred>
    bool wait_for(pthread_cond_t& cond, Pred pred, const timespec& deadline) {
        while (!pred()) {
            const int rc = pthread_cond_timedwait(&cond, &mutex, &deadline);
            if (rc == ETIMEDOUT) return pred();
            check_pt(rc, "pthread_cond_timedwait");
        }
        return true;
    }
};
// ANCHOR_END: office

// ANCHOR: worker
// A worker waits (at most 5 s) for one ticket, takes it and ends.
int worker(TicketOffice& o, int id) {
    check_pt(pthread_mutex_lock(&o.mutex), "pthread_mutex_lock");
    ++o.waiting;
    pthread_cond_broadcast(&o.progress);
    bool first = true;
    auto ticket_available = [&] {
        if (!first && o.tickets == 0) {  // woken, but another waiter was faster
            ++o.empty_wakeups;           // (or the wake-up was spurious)
            pthread_cond_broadcast(&o.progress);
        }
        first = false;
        return o.tickets > 0;
    };
    const bool got = o.wait_for(o.ticket_ready, ticket_available, deadline_in(5000));
    --o.waiting;
    if (got) {
        --o.tickets;
        ++o.taken;
        std::cout << "  worker " << id << " took a ticket" << std::endl;
    }
    pthread_cond_broadcast(&o.progress);
    pthread_mutex_unlock(&o.mutex);
    return got ? 0 : 1;
}
// ANCHOR_END: worker

// ANCHOR: hand_out
// Adds one ticket and wakes one waiter (signal) or all (broadcast); waits until
// the ticket is taken and, after a broadcast, every other waiter has woken and
// found nothing. True if that happened, which is what POSIX promises.
bool hand_out_one(TicketOffice& o, bool wake_all) {
    check_pt(pthread_mutex_lock(&o.mutex), "pthread_mutex_lock");
    const int taken0 = o.taken, empty0 = o.empty_wakeups, waiting0 = o.waiting;
    const int must_wake_empty = wake_all ? waiting0 - 1 : 0;
    ++o.tickets;
    if (wake_all) pthread_cond_broadcast(&o.ticket_ready);
    else pthread_cond_signal(&o.ticket_ready);
    auto promised = [&] {
        return o.taken > taken0 && o.empty_wakeups - empty0 >= must_wake_empty;
    };
    const bool ok = o.wait_for(o.progress, promised, deadline_in(5000));
    std::cout << (wake_all ? "notify all" : "notify one") << ": " << waiting0
              << " waiting, 1 ticket -> took " << o.taken - taken0 << ", woke for nothing "
              << o.empty_wakeups - empty0 << " (at least " << must_wake_empty << ")"
              << std::endl;
    pthread_mutex_unlock(&o.mutex);
    return ok && o.taken - taken0 == 1;
}
// ANCHOR_END: hand_out

}  // namespace

// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(TicketOffice), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(TicketOffice)); } } unmap{p};
        TicketOffice& office = *new (p) TicketOffice{};

        Child workers[3];  // declared after the mapping: killed and reaped before it goes
        for (int i = 0; i < 3; ++i) {
            std::cout.flush();  // else the child prints our buffer again
            workers[i].pid = check(::fork(), "fork");
            if (workers[i].pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = worker(office, i + 1); } catch (...) {}
                _exit(code);
            }
        }
        check_pt(pthread_mutex_lock(&office.mutex), "pthread_mutex_lock");
        bool ok = office.wait_for(office.progress, [&] { return office.waiting == 3; },
                                  deadline_in(5000));
        pthread_mutex_unlock(&office.mutex);
        std::cout << "3 workers waiting for a ticket: " << (ok ? "yes" : "NO") << std::endl;

        ok = hand_out_one(office, false) && ok;  // signal: at least one wakes
        ok = hand_out_one(office, true) && ok;   // broadcast: both wake, one takes it
        ok = hand_out_one(office, false) && ok;
        for (Child& w : workers) {  // each worker ends by itself within 5 s
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::cout << "tickets taken: " << office.taken << " of 3, left: " << office.tickets
                  << '\n';
        ok = ok && office.taken == 3 && office.tickets == 0;

        // A predicate that stays false: wait_for gives up at the deadline.
        check_pt(pthread_mutex_lock(&office.mutex), "pthread_mutex_lock");
        const bool got = office.wait_for(office.ticket_ready,
                                         [&] { return office.tickets > 0; }, deadline_in(100));
        pthread_mutex_unlock(&office.mutex);
        std::cout << "wait_for(tickets > 0, 100 ms) with no tickets: "
                  << (got ? "true?!" : "false (timed out)") << '\n';
        return ok && !got ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "conditions: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
