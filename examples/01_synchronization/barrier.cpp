// barrier.cpp - a process-shared pthread_barrier_t (Python: multiprocessing.Barrier)
// keeps four processes in step: each smooths its slice of a 1-D bar, and in phase
// k reads its neighbours' results of phase k-1, so nobody may start phase k
// before everybody has finished phase k-1. Checked against a serial run.
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <iostream>
#include <new>
#include <system_error>

namespace {
constexpr int kWorkers = 4, kCells = 16, kPhases = 5;  // kCells / kWorkers cells each
using Grid = std::array<double, kCells>;

int check(int rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Child {  // owns a child: if we leave early, it is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct Shared {  // in a MAP_SHARED mapping; the barrier is set up by main
    pthread_barrier_t barrier;
    std::array<Grid, 2> grids{};  // double buffer: phase k reads k%2, writes (k+1)%2
};

void smooth(const Grid& prev, Grid& next, int begin, int end) {  // the ends stay fixed
    for (int i = begin; i < end; ++i)
        next[i] = i == 0 || i == kCells - 1 ? prev[i]
                                            : (prev[i - 1] + 2 * prev[i] + prev[i + 1]) / 4;
}

int worker(Shared& s, int id) {
    for (int phase = 0; phase < kPhases; ++phase) {
        smooth(s.grids[phase % 2], s.grids[(phase + 1) % 2], id * kCells / kWorkers,
               (id + 1) * kCells / kWorkers);
        // Wait for every slice of this phase before anyone reads it (or, two
        // phases on, overwrites the buffer the slow ones still read).
        const int rc = pthread_barrier_wait(&s.barrier);
        if (rc != 0 && rc != PTHREAD_BARRIER_SERIAL_THREAD) return 1;
        if (rc == PTHREAD_BARRIER_SERIAL_THREAD)  // exactly one party: Python's wait() == 0
            std::cout << "phase " << phase + 1 << ": all " << kWorkers << " passed" << std::endl;
    }
    return 0;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        void* p = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        struct Unmap { void* p; ~Unmap() { ::munmap(p, sizeof(Shared)); } } unmap{p};
        Shared& s = *new (p) Shared{};
        pthread_barrierattr_t attr;
        pthread_barrierattr_init(&attr);
        pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
        if (int err = pthread_barrier_init(&s.barrier, &attr, kWorkers))
            throw std::system_error(err, std::generic_category(), "pthread_barrier_init");
        s.grids[0][kCells / 2] = 1600.0;  // a heat spike in the middle of a cold bar
        Grid serial = s.grids[0], next = serial;  // the same phases in one process
        for (int k = 0; k < kPhases; ++k, serial = next) smooth(serial, next, 0, kCells);
        Child workers[kWorkers];  // after the mapping: killed and reaped before it goes
        for (int id = 0; id < kWorkers; ++id) {
            std::cout.flush();  // else the child prints our buffer again
            workers[id].pid = check(::fork(), "fork");
            if (workers[id].pid == 0) {  // the worker ends here, whatever happens
                ::alarm(5);  // a barrier has no time-out: SIGALRM ends a worker stuck 5 s
                int code = 1;
                try { code = worker(s, id); } catch (...) {}
                _exit(code);
            }
        }
        bool ok = true;
        for (Child& w : workers) {  // each ends by itself: its alarm is the bound
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        // Only after a clean run: glibc's destroy waits until every party has left.
        if (ok) pthread_barrier_destroy(&s.barrier);
        const bool same = s.grids[kPhases % 2] == serial;
        std::cout << "parallel result == serial result: " << (same ? "yes" : "NO")
                  << "\nmiddle cell after " << kPhases << " phases: " << serial[kCells / 2] << '\n';
        return ok && same ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "barrier: " << e.what() << '\n';
        return 1;
    }
}
