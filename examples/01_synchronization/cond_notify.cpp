// cond_notify.cpp - notify() or notify_all()? Three worker processes wait for a
// ticket; the parent adds one at a time. POSIX promises that pthread_cond_signal
// wakes AT LEAST one waiter and pthread_cond_broadcast wakes ALL of them, and
// allows wake-ups for nothing: the program checks only what POSIX promises.
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include "pshared.hpp"

namespace {
// One condition per predicate: workers wait on `ticket` for "tickets > 0", the
// parent on `progress` for what they did. `waiting` counts the workers that came.
struct Office {
    pthread_mutex_t mutex;
    pthread_cond_t ticket, progress;
    int tickets = 0, waiting = 0, taken = 0, woke_for_nothing = 0;
    Office() { init_shared(mutex); init_shared(ticket); init_shared(progress); }
};

int worker(Office& o) {  // waits (5 s at most) for one ticket, takes it, ends
    check_pt(pthread_mutex_lock(&o.mutex), "pthread_mutex_lock");
    ++o.waiting;
    int checks = 0;  // every check after the first follows a wake-up
    const bool got = wait_for(o.ticket, o.mutex, [&] {
        const bool found = o.tickets > 0;
        if (found) --o.tickets, ++o.taken;
        else if (checks++ > 0) ++o.woke_for_nothing;  // another was faster, or spurious
        pthread_cond_broadcast(&o.progress);  // tell the parent what we did
        return found;
    }, 5000);
    pthread_mutex_unlock(&o.mutex);
    return got ? 0 : 1;
}

// Once `n` workers wait: one ticket, then signal or broadcast. True if POSIX's promise
// held: the ticket was taken and, after a broadcast, every other waiter woke for nothing.
bool hand_out(Office& o, int n, bool all) {
    check_pt(pthread_mutex_lock(&o.mutex), "pthread_mutex_lock");
    bool ok = wait_for(o.progress, o.mutex, [&] { return o.waiting - o.taken == n; }, 5000);
    const int taken = o.taken, nothing = o.woke_for_nothing, must = all ? n - 1 : 0;
    ++o.tickets;
    if (all) pthread_cond_broadcast(&o.ticket);
    else pthread_cond_signal(&o.ticket);
    ok = wait_for(o.progress, o.mutex, [&] {
        return o.taken == taken + 1 && o.woke_for_nothing - nothing >= must;
    }, 5000) && ok;
    std::cout << (all ? "broadcast" : "signal") << ": " << n << " waiting, 1 ticket -> taken "
              << o.taken - taken << ", woke for nothing " << o.woke_for_nothing - nothing
              << " (at least " << must << ")\n";
    pthread_mutex_unlock(&o.mutex);
    return ok;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        SharedMapping<Office> mapping;
        Child workers[3];  // after the mapping: killed and reaped before it goes
        for (Child& w : workers) {
            std::cout.flush();  // else the child prints our buffer again
            w.pid = check(::fork(), "fork");
            if (w.pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = worker(*mapping); } catch (...) {}
                _exit(code);
            }
        }
        bool ok = true;  // 3 waiting: signal; 2: broadcast (both wake); 1: signal
        for (int n = 3; n > 0; --n) ok = hand_out(*mapping, n, n == 2) && ok;
        for (Child& w : workers) {  // each worker ends by itself within 5 s
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "cond_notify: " << e.what() << '\n';
        return 1;
    }
}
