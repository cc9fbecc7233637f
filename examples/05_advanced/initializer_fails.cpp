// initializer_fails.cpp — one worker's initializer throws: the pool notices, and
// everyone is cleaned up.
//
// Python: when an initializer raises in a ProcessPoolExecutor, that worker dies and
// the executor is marked broken (BrokenProcessPool); multiprocessing.Pool instead
// starts a new worker, which fails again, for ever. Here the parent watches for a
// dead worker while it waits, gives up on the pool, and checks what is left behind.
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "worker_pool.hpp"

namespace {

constexpr int kWorkers = 3;
constexpr int kFailing = 2;   // this worker's initializer throws

/// Set-up that can fail half-way: the scratch file exists when the throw comes.
class WorkerState {
public:
    WorkerState(int id, int results) : id_(id), results_(results), scratch_(id) {
        if (id == kFailing) throw std::runtime_error("initializer: cannot load the lookup table");
        say(id_, "initializer: scratch file ready");
        tell(Kind::Hello);
    }
    // Not run for worker kFailing (its constructor did not finish), but its
    // scratch_ member is destroyed all the same: ~ScratchFile removes the file.
    ~WorkerState() {
        scratch_.remove();
        say(id_, "finalizer: scratch file removed");
        tell(Kind::Bye);
    }
    WorkerState(const WorkerState&) = delete;
private:
    void tell(Kind kind) const {   // never throws: a destructor calls it, and the pool may be gone
        Message m{kind, id_, 0, 0};
        (void)::send(results_, &m, sizeof m, MSG_NOSIGNAL);
    }
    int id_, results_;
    ScratchFile scratch_;
};

int worker_main(int id, int sock) {
    WorkerState state(id, sock);
    int task;
    while (recv_msg(sock, task) && task >= 0) {}   // no task comes: the pool is given up
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: initializer_fails (takes no arguments)\n");
        return 2;
    }
    try {
        std::printf("starting %d workers; worker %d's initializer will throw\n", kWorkers, kFailing);
        Pool pool(kWorkers, "initializer_fails", worker_main);
        bool noticed = false;
        try {
            Message m{};
            for (int hellos = 0; hellos < kWorkers && pool.next(m);) hellos += m.kind == Kind::Hello;
        } catch (const BrokenPool& e) {   // the only exception expected here
            std::printf("the pool noticed: %s\n", e.what());
            noticed = true;
        }
        std::fflush(stdout);
        const int clean = pool.abandon();   // end-of-file: the idle workers run their finalizers
        const size_t left = scratch_files();
        std::printf("%d/%d other workers exited with status 0; every worker reaped\n", clean, kWorkers - 1);
        std::printf("scratch files left: %zu\n", left);
        const bool ok = noticed && clean == kWorkers - 1 && left == 0;
        std::printf("%s\n", ok ? "ok: a failed initializer broke the pool, and nothing was left behind"
                               : "FAIL: the failure went unnoticed or left something behind");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // ~Pool has stopped and reaped the workers
        std::fflush(stdout);
        std::fprintf(stderr, "initializer_fails: %s\n", e.what());
        return 1;
    }
}
