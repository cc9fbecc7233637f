// initializer_finalizer.cpp — per-worker set-up and tear-down in a process pool.
//
// Python: Pool(initializer=f, initargs=...) runs f once in every worker; there
// is no finalizer, and pool workers leave with os._exit(), so atexit does not
// run in them. In C++ the worker's state is an object: its constructor is the
// initializer and its destructor the finalizer (RAII), and it runs on every
// orderly way out of the worker's main function.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "worker_pool.hpp"

namespace {

constexpr int kWorkers = 3;
constexpr int kTasks = 9;

/// Everything one worker sets up once and tears down once.
/// Constructor = Python's initializer; destructor = the finalizer Python lacks.
class WorkerState {
public:
    // The "expensive" set-up: a scratch file and a lookup table.
    WorkerState(int id, int results) : id_(id), results_(results), scratch_(id) {
        for (long i = 0; i < 100; ++i) squares_.push_back(i * i);
        say(id_, "initializer: scratch file and lookup table ready");
        tell(Kind::Hello);   // the parent submits no task before every worker said hello
    }
    ~WorkerState() {
        // Runs on return and on exceptions alike; not on SIGKILL, the last resort of
        // Pool::abandon() for a worker still busy a second after the pool was given up.
        scratch_.remove();
        say(id_, "finalizer: did " + std::to_string(done_) + " tasks, scratch file removed");
        tell(Kind::Bye);
    }
    WorkerState(const WorkerState&) = delete;
    WorkerState& operator=(const WorkerState&) = delete;

    long handle(int task) {
        ++done_;
        return squares_.at(static_cast<size_t>(task));
    }
private:
    void tell(Kind kind) const {   // never throws: a destructor calls it, and the pool may be gone
        Message m{kind, id_, done_, 0};
        (void)::send(results_, &m, sizeof m, MSG_NOSIGNAL);
    }
    int id_, results_;
    int done_ = 0;
    ScratchFile scratch_;
    std::vector<long> squares_;
};

/// The worker's whole life. Returning from here destroys `state`: the finalizer.
int worker_main(int id, int sock) {
    WorkerState state(id, sock);
    int task;
    while (recv_msg(sock, task) && task >= 0) {   // -1 is the "stop" request
        Message m{Kind::Result, id, task, state.handle(task)};
        send_msg(sock, m);
    }
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: initializer_finalizer (takes no arguments)\n");
        return 2;
    }
    try {
        std::printf("starting %d workers; each runs its initializer once\n", kWorkers);
        Pool pool(kWorkers, "initializer_finalizer", worker_main);
        Message m{};
        for (int hellos = 0; hellos < kWorkers && pool.next(m);) hellos += m.kind == Kind::Hello;
        const size_t made = scratch_files();
        std::printf("all %d workers initialised (%zu scratch files); submitting %d tasks\n", kWorkers, made, kTasks);
        std::fflush(stdout);

        for (int t = 0; t < kTasks; ++t) pool.submit(t);
        long sum = 0;
        for (int got = 0; got < kTasks && pool.next(m);)
            if (m.kind == Kind::Result) { sum += m.value; ++got; }
        const long expected = (kTasks - 1) * kTasks * (2 * kTasks - 1) / 6;   // 0² + 1² + ... + 8²
        std::printf("sum of squares = %ld (expected %ld)\n", sum, expected);
        std::printf("shutting down: one stop request per worker\n");
        std::fflush(stdout);

        int clean = pool.stop();   // finalizers run now, in the workers
        int byes = 0, tasks_reported = 0;
        while (byes < kWorkers && pool.next(m))
            if (m.kind == Kind::Bye) { ++byes; tasks_reported += m.task; }
        const size_t left = scratch_files();

        std::printf("%d/%d workers exited with status 0\n", clean, kWorkers);
        std::printf("%d/%d finalizers reported, covering %d/%d tasks\n", byes, kWorkers, tasks_reported, kTasks);
        std::printf("scratch files left: %zu\n", left);
        bool ok = sum == expected && made == kWorkers && clean == kWorkers &&
                  byes == kWorkers && tasks_reported == kTasks && left == 0;
        std::printf("%s\n", ok ? "ok: every worker was set up once and torn down once"
                               : "FAIL: set-up or tear-down went wrong");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // ~Pool has stopped and reaped the workers
        std::fflush(stdout);
        std::fprintf(stderr, "initializer_finalizer: %s\n", e.what());
        return 1;
    }
}
