// conditions.cpp — a process-shared condition variable (Python:
// multiprocessing.Condition). Three worker processes each wait for a "ticket".
// The parent hands out tickets one at a time and shows:
//   * notify one (pthread_cond_signal) wakes one waiter;
//   * notify all (pthread_cond_broadcast) wakes every waiter, so the ones that
//     find no ticket must go back to sleep — which is why a condition is always
//     waited for in a loop that re-checks the predicate;
//   * a timed wait with a predicate, on CLOCK_MONOTONIC.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <new>
#include <vector>

namespace {

constexpr int kWorkers = 3;

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::exit(1);
}

int check(int rc, const char* what) {
    if (rc == -1) die(what);
    return rc;
}

void check_pt(int err, const char* what) {
    if (err != 0) {
        errno = err;
        die(what);
    }
}

/// An absolute CLOCK_MONOTONIC time `ms` milliseconds from now.
timespec deadline_in(long ms) {
    timespec t{};
    check(clock_gettime(CLOCK_MONOTONIC, &t), "clock_gettime");
    std::int64_t ns = std::int64_t{t.tv_nsec} + std::int64_t{ms} * 1'000'000;
    t.tv_sec += static_cast<time_t>(ns / 1'000'000'000);
    t.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return t;
}

/// Everything the processes share. All fields are protected by `mutex`.
struct TicketOffice {
    pthread_mutex_t mutex;
    pthread_cond_t ticket_ready;  // workers wait here: "tickets may be > 0"
    pthread_cond_t progress;      // the parent waits here: "a worker did something"
    int tickets = 0;
    int waiting = 0;  // workers inside wait
    int taken = 0;
    int empty_wakeups = 0;  // woke up, re-checked, found no ticket
    bool went_negative = false;

    TicketOffice() {
        pthread_mutexattr_t ma;
        check_pt(pthread_mutexattr_init(&ma), "pthread_mutexattr_init");
        check_pt(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED),
                 "setpshared");
        check_pt(pthread_mutex_init(&mutex, &ma), "pthread_mutex_init");
        pthread_mutexattr_destroy(&ma);

        pthread_condattr_t ca;
        check_pt(pthread_condattr_init(&ca), "pthread_condattr_init");
        check_pt(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED),
                 "setpshared");
        // The default clock is CLOCK_REALTIME: a time-out would jump when the
        // wall clock is set. Deadlines then come from CLOCK_MONOTONIC too.
        check_pt(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), "setclock");
        check_pt(pthread_cond_init(&ticket_ready, &ca), "pthread_cond_init");
        check_pt(pthread_cond_init(&progress, &ca), "pthread_cond_init");
        pthread_condattr_destroy(&ca);
    }
    ~TicketOffice() {
        pthread_cond_destroy(&ticket_ready);
        pthread_cond_destroy(&progress);
        pthread_mutex_destroy(&mutex);
    }
    TicketOffice(const TicketOffice&) = delete;
    TicketOffice& operator=(const TicketOffice&) = delete;

    void lock() { check_pt(pthread_mutex_lock(&mutex), "pthread_mutex_lock"); }
    void unlock() { check_pt(pthread_mutex_unlock(&mutex), "pthread_mutex_unlock"); }
    void tell_parent() { check_pt(pthread_cond_broadcast(&progress), "broadcast"); }

    /// Waits (mutex held) until pred() is true or the deadline passes.
    /// Returns pred(): like Python's Condition.wait_for(predicate, timeout).
    template <class Pred>
    bool wait_for(pthread_cond_t& cond, Pred pred, const timespec& deadline) {
        while (!pred()) {
            int rc = pthread_cond_timedwait(&cond, &mutex, &deadline);
            if (rc == ETIMEDOUT) return pred();
            check_pt(rc, "pthread_cond_timedwait");
        }
        return true;
    }
};

/// Owns the anonymous shared mapping holding the TicketOffice.
class SharedOffice {
public:
    SharedOffice() {
        void* p = mmap(nullptr, sizeof(TicketOffice), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        office_ = new (p) TicketOffice{};
    }
    ~SharedOffice() {
        office_->~TicketOffice();
        munmap(office_, sizeof(TicketOffice));
    }
    SharedOffice(const SharedOffice&) = delete;
    SharedOffice& operator=(const SharedOffice&) = delete;
    TicketOffice& operator*() const { return *office_; }

private:
    TicketOffice* office_;
};

/// A worker waits for one ticket, takes it, and exits.
int worker(TicketOffice& office, int id) {
    office.lock();
    ++office.waiting;
    office.tell_parent();
    const timespec give_up = deadline_in(5000);
    bool first = true;
    // Every evaluation after the first follows a wake-up. Finding no ticket
    // is normal: another waiter was faster, or the wake-up was spurious.
    auto ticket_available = [&] {
        if (!first && office.tickets == 0) {
            ++office.empty_wakeups;
            office.tell_parent();
        }
        first = false;
        return office.tickets > 0;
    };
    bool got = office.wait_for(office.ticket_ready, ticket_available, give_up);
    --office.waiting;
    if (got) {
        --office.tickets;
        office.went_negative = office.went_negative || office.tickets < 0;
        ++office.taken;
        std::cout << "  worker " << id << " took a ticket\n";
        std::cout.flush();
    }
    office.tell_parent();
    office.unlock();
    return got ? 0 : 1;
}

/// Parent: adds one ticket and wakes one (signal) or all (broadcast) waiters,
/// then waits until the ticket is taken and every other woken worker has
/// found nothing and gone back to sleep. Returns true if the counts are right.
bool hand_out_one(TicketOffice& office, bool wake_all) {
    office.lock();
    const int taken_before = office.taken;
    const int empty_before = office.empty_wakeups;
    const int waiting_before = office.waiting;
    const int expect_empty = wake_all ? waiting_before - 1 : 0;
    ++office.tickets;
    if (wake_all)
        check_pt(pthread_cond_broadcast(&office.ticket_ready),
                 "pthread_cond_broadcast");
    else
        check_pt(pthread_cond_signal(&office.ticket_ready), "pthread_cond_signal");
    auto ticket_gone_and_losers_asleep = [&] {
        return office.taken > taken_before &&
               office.empty_wakeups - empty_before >= expect_empty;
    };
    office.wait_for(office.progress, ticket_gone_and_losers_asleep, deadline_in(5000));
    office.unlock();

    timespec settle{0, 30'000'000};  // time for a wrong extra wake-up to show
    nanosleep(&settle, nullptr);

    office.lock();
    const int taken = office.taken - taken_before;
    const int empty = office.empty_wakeups - empty_before;
    std::cout << (wake_all ? "notify all" : "notify one") << ": " << waiting_before
              << " waiting, 1 ticket -> woke " << taken + empty << ", took " << taken
              << ", woke for nothing " << empty << ", asleep again " << office.waiting
              << '\n';
    std::cout.flush();  // before the next worker prints
    office.unlock();
    return taken == 1 && empty == expect_empty;
}

/// Starts the workers and waits (on `progress`) until all of them are waiting.
std::vector<pid_t> start_workers(TicketOffice& office, bool& all_waiting) {
    std::vector<pid_t> workers;
    for (int id = 1; id <= kWorkers; ++id) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) std::exit(worker(office, id));
        workers.push_back(pid);
    }
    office.lock();
    auto everyone_waiting = [&] { return office.waiting == kWorkers; };
    all_waiting = office.wait_for(office.progress, everyone_waiting, deadline_in(5000));
    office.unlock();
    std::cout << kWorkers
              << " workers waiting for a ticket: " << (all_waiting ? "yes" : "NO")
              << '\n';
    std::cout.flush();
    return workers;
}

/// True if every worker exited with status 0 (it got a ticket in time).
bool reap(const std::vector<pid_t>& workers) {
    bool all_ok = true;
    for (pid_t pid : workers) {
        int status = 0;
        check(waitpid(pid, &status, 0), "waitpid");
        all_ok = all_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return all_ok;
}

/// A timed wait whose predicate never becomes true must return false.
bool timed_wait_gives_up(TicketOffice& office) {
    office.lock();
    auto has_ticket = [&] { return office.tickets > 0; };
    bool got = office.wait_for(office.ticket_ready, has_ticket, deadline_in(100));
    office.unlock();
    std::cout << "wait_for(tickets > 0, 100 ms) with no tickets: "
              << (got ? "true?!" : "false (timed out)") << '\n';
    return !got;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedOffice shared;
    TicketOffice& office = *shared;

    bool ok = false;
    std::vector<pid_t> workers = start_workers(office, ok);
    ok = hand_out_one(office, false) && ok;  // signal: one wakes
    ok = hand_out_one(office, true) && ok;   // broadcast: both wake, one goes back
    ok = hand_out_one(office, false) && ok;
    ok = reap(workers) && office.taken == kWorkers && ok;

    std::cout << "tickets never went negative: "
              << (office.went_negative ? "NO" : "yes") << '\n';
    ok = !office.went_negative && ok;
    ok = timed_wait_gives_up(office) && ok;
    return ok ? 0 : 1;
}
