// barrier.cpp — a process-shared pthread_barrier_t (Python:
// multiprocessing.Barrier) keeps four processes in step through a phased
// computation: repeated smoothing of a 1-D array, each process owning one
// slice. In phase k every process reads its neighbours' results of phase k-1,
// so nobody may start phase k before everybody has finished phase k-1.
// The result is compared with the same computation done serially.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <new>
#include <vector>

namespace {

constexpr int kWorkers = 4;
constexpr int kCells = 16;  // kCells / kWorkers cells per process
constexpr int kPhases = 5;
using Grid = std::array<double, kCells>;

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

struct Shared {
    pthread_barrier_t barrier;
    std::array<Grid, 2> grids;  // double buffer: phase k reads k%2, writes (k+1)%2
    std::array<std::atomic<int>, kPhases> serial_count{};  // who got SERIAL_THREAD
};

/// Owns the anonymous shared mapping and the barrier inside it.
class SharedMapping {
public:
    explicit SharedMapping(unsigned parties) {
        void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) die("mmap");
        shared_ = new (p) Shared{};
        pthread_barrierattr_t attr;
        check_pt(pthread_barrierattr_init(&attr), "pthread_barrierattr_init");
        check_pt(pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED),
                 "pthread_barrierattr_setpshared");
        check_pt(pthread_barrier_init(&shared_->barrier, &attr, parties),
                 "pthread_barrier_init");
        pthread_barrierattr_destroy(&attr);
        shared_->grids[0] = initial_grid();
    }
    ~SharedMapping() {
        pthread_barrier_destroy(&shared_->barrier);  // only after every process left it
        shared_->~Shared();
        munmap(shared_, sizeof(Shared));
    }
    SharedMapping(const SharedMapping&) = delete;
    SharedMapping& operator=(const SharedMapping&) = delete;
    Shared& operator*() const { return *shared_; }

private:
    Shared* shared_;
};

/// Returns true for exactly one of the processes, as Python's wait() returns 0
/// to exactly one party.
bool arrive_and_wait(pthread_barrier_t& barrier) {
    int rc = pthread_barrier_wait(&barrier);
    if (rc == PTHREAD_BARRIER_SERIAL_THREAD) return true;
    check_pt(rc, "pthread_barrier_wait");
    return false;
}

void worker(Shared& s, int id) {
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
}

Grid serial_result() {
    Grid g = initial_grid();
    for (int phase = 0; phase < kPhases; ++phase) {
        Grid next{};
        for (int i = 0; i < kCells; ++i) next[i] = smoothed(g, i);
        g = next;
    }
    return g;
}

/// Runs one worker process per slice; true if all of them exited with 0.
bool run_workers(Shared& s) {
    std::vector<pid_t> workers;
    for (int id = 0; id < kWorkers; ++id) {
        std::cout.flush();
        pid_t pid = check(fork(), "fork");
        if (pid == 0) {
            worker(s, id);
            std::exit(0);
        }
        workers.push_back(pid);
    }
    bool ok = true;
    for (pid_t pid : workers) {
        int status = 0;
        check(waitpid(pid, &status, 0), "waitpid");
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    SharedMapping mapping(kWorkers);
    Shared& s = *mapping;
    std::cout << kWorkers << " processes, " << kCells << " cells, " << kPhases
              << " phases\n";
    bool ok = run_workers(s);

    bool one_serial = true;
    for (auto& n : s.serial_count) one_serial = one_serial && n.load() == 1;
    std::cout
        << "exactly one process got PTHREAD_BARRIER_SERIAL_THREAD in every phase: "
        << (one_serial ? "yes" : "NO") << '\n';

    const Grid& parallel = s.grids[kPhases % 2];
    bool same = parallel == serial_result();
    std::cout << "parallel result == serial result: " << (same ? "yes" : "NO") << '\n';
    std::cout << "middle cell after " << kPhases << " phases: " << parallel[kCells / 2]
              << '\n';
    return ok && one_serial && same ? 0 : 1;
}
