// barrier.cpp — a process-shared pthread_barrier_t (Python:
// multiprocessing.Barrier) keeps four processes in step through a phased
// computation: repeated smoothing of a 1-D array, each process owning one
// slice. In phase k every process reads its neighbours' results of phase k-1,
// so nobody may start phase k before everybody has finished phase k-1.
// The result is compared with the same computation done serially.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

namespace {

constexpr int kWorkers = 4;
constexpr int kCells = 16;  // kCells / kWorkers cells per process
constexpr int kPhases = 5;
using Grid = std::array<double, kCells>;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
void check_pt(int err, const char* what) {  // pthread_* return the error number
    if (err != 0) throw std::system_error(err, std::generic_category(), what);
}

/// A heat spike in the middle of a cold bar.
Grid initial_grid() {
    Grid g{};
    g[kCells / 2] = 1600.0;
    return g;
}

/// One smoothing step for one cell; the ends of the bar stay fixed.
double smoothed(const Grid& prev, int i) {
    if (i == 0 || i == kCells - 1) return prev[i];
    return 0.25 * prev[i - 1] + 0.5 * prev[i] + 0.25 * prev[i + 1];
}

// ANCHOR: barrier
struct Shared {
    pthread_barrier_t barrier;
    std::array<Grid, 2> grids;  // double buffer: phase k reads k%2, writes (k+1)%2
    std::array<std::atomic<int>, kPhases> serial_count{};  // who got SERIAL_THREAD
};

// Owns the shared mapping and the process-shared barrier inside it.
class SharedMapping {
public:
    explicit SharedMapping(unsigned parties) {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        shared_ = new (p) Shared{};
        pthread_barrierattr_t attr;
        pthread_barrierattr_init(&attr);
        pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        const int err = pthread_barrier_init(&shared_->barrier, &attr, parties);
        pthread_barrierattr_destroy(&attr);
        if (err != 0) { ::munmap(p, sizeof(Shared)); check_pt(err, "pthread_barrier_init"); }
        shared_->grids[0] = initial_grid();
    }
    ~SharedMapping() {
        // glibc's pthread_barrier_destroy waits until every party has left the
        // barrier, and a killed worker never leaves: destroy only after a clean run.
        if (all_left_) pthread_barrier_destroy(&shared_->barrier);
        ::munmap(shared_, sizeof(Shared));
    }
    void all_left() { all_left_ = true; }
    SharedMapping(const SharedMapping&) = delete;
    Shared& operator*() const { return *shared_; }

private:
    Shared* shared_;
    bool all_left_ = false;
};

/// Returns true for exactly one of the processes, as Python's wait() returns 0
/// to exactly one party.
bool arrive_and_wait(pthread_barrier_t& barrier) {
    int rc = pthread_barrier_wait(&barrier);
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD) return true;
    check_pt(rc, "pthread_barrier_wait");
    return false;
}

int worker(Shared& s, int id) {
    const int begin = id * (kCells / kWorkers);
    const int end = begin + kCells / kWorkers;
    for (int phase = 0; phase < kPhases; ++phase) {
        const Grid& prev = s.grids[phase % 2];
        Grid& next = s.grids[(phase + 1) % 2];
        for (int i = begin; i < end; ++i) next[i] = smoothed(prev, i);
        // Wait for all slices of this phase before anyone reads them (and
        // before anyone overwrites `prev` in the next-but-one phase).
        if (arrive_and_wait(s.barrier)) {
            s.serial_count[phase].fetch_add(1);
            std::cout << "phase " << phase + 1 << " complete: all " << kWorkers
                      << " processes passed the barrier\n";
            std::cout.flush();  // printed by one process only, in phase order
        }
    }
    return 0;
}
// ANCHOR_END: barrier

Grid serial_result() {
    Grid g = initial_grid();
    for (int phase = 0; phase < kPhases; ++phase) {
        Grid next{};
        for (int i = 0; i < kCells; ++i) next[i] = smoothed(g, i);
        g = next;
    }
    return g;
}

// ANCHOR: waiting
// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// A barrier has no time-out: if one worker dies, the others wait for ever.
// So the parent waits for its workers with a deadline (10 s for work that
// takes milliseconds) and leaves the rest to the owners, which kill them.
bool reaped_in_time(Child* workers, int n) {
    for (int tick = 0; tick < 1000; ++tick) {
        int left = 0;
        for (int i = 0; i < n; ++i) {
            if (workers[i].pid <= 0) continue;
            int status = 0;
            if (check(::waitpid(workers[i].pid, &status, WNOHANG), "waitpid") == 0) {
                ++left;
                continue;
            }
            workers[i].pid = -1;  // reaped
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
        }
        if (left == 0) return true;
        ::usleep(10'000);
    }
    return false;
}
// ANCHOR_END: waiting

}  // namespace

// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        SharedMapping mapping(kWorkers);
        Shared& s = *mapping;
        std::cout << kWorkers << " processes, " << kCells << " cells, " << kPhases << " phases\n";
        Child workers[kWorkers];  // after the mapping: killed and reaped before it goes
        for (int id = 0; id < kWorkers; ++id) {
            std::cout.flush();  // else the child prints our buffer again
            workers[id].pid = check(::fork(), "fork");
            if (workers[id].pid == 0) {  // the worker ends here, whatever happens
                int code = 1;
                try { code = worker(s, id); } catch (...) {}
                _exit(code);
            }
        }
        const bool ok = reaped_in_time(workers, kWorkers);
        if (ok) mapping.all_left();
        else std::cout << "a worker failed or hung: the others are killed\n";

        bool one_serial = true;
        for (auto& n : s.serial_count) one_serial = one_serial && n.load() == 1;
        std::cout << "exactly one process got PTHREAD_BARRIER_SERIAL_THREAD in every phase: "
                  << (one_serial ? "yes" : "NO") << '\n';
        const Grid& parallel = s.grids[kPhases % 2];
        const bool same = parallel == serial_result();
        std::cout << "parallel result == serial result: " << (same ? "yes" : "NO") << '\n'
                  << "middle cell after " << kPhases << " phases: " << parallel[kCells / 2] << '\n';
        return ok && one_serial && same ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "barrier: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
