// gather_results (WRONG on purpose: it keeps the results in arrival order, ignoring their index) - fan-out, fan-in: three workers
// each take every third number and send their results, tagged with the number's
// index, up one shared pipe. The parent reads every result before it waits for the
// workers, and puts each result back in its place.
// Python: pool.map(collatz_steps, range(1, n + 1)) returns the results in order.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr int kWorkers = 3;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(std::exchange(fd, -1)); }
};
struct Pipe {
    Fd read, write;
    Pipe() { int fds[2]; check(::pipe(fds), "pipe"); read.fd = fds[0], write.fd = fds[1]; }
};

struct Child {  // a forked child running body(); killed and reaped if we leave early
    pid_t pid = -1;
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child prints our buffered text again
        pid = check(::fork(), "fork");
        if (pid != 0) return;
        int code = 1;  // the child ends here, whatever happens
        try { body(); code = 0; } catch (const std::exception& e) { std::cerr << e.what() << '\n'; }
        _exit(code);
    }
    Child(Child&& o) noexcept : pid(std::exchange(o.pid, -1)) {}
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    bool wait() {  // true if it exited with 0
        int status = 0;
        check(::waitpid(std::exchange(pid, -1), &status, 0), "waitpid");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
};

// One result, tagged with its index. 16 bytes, under PIPE_BUF: each write() of one
// record is atomic, so the workers' records never interleave in the shared pipe.
struct Result { long index, steps; };

long collatz_steps(long n) {
    long steps = 0;
    for (; n != 1; ++steps) n = n % 2 == 0 ? n / 2 : 3 * n + 1;
    return steps;
}

void worker(int w, long n, int out) {  // fan-out: worker w takes w, w+3, w+6, ...
    for (long i = w; i < n; i += kWorkers) {
        const Result r{i, collatz_steps(i + 1)};
        if (check(static_cast<int>(::write(out, &r, sizeof r)), "write") != sizeof r)
            throw std::runtime_error("short write");
    }
}
bool receive(int fd, Result& r) {  // false at end-of-file: every write end is closed
    const int got = check(static_cast<int>(::read(fd, &r, sizeof r)), "read");
    if (got != 0 && got != sizeof r) throw std::runtime_error("short read");
    return got != 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    const long n = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
    if (argc != 2 || n <= 0 || n > 1'000'000) {
        std::cerr << "usage: " << argv[0] << " NUMBERS (1..1000000)\n";
        return 2;
    }
    try {
        Pipe results;
        const int holds = check(::fcntl(results.write.fd, F_GETPIPE_SZ), "fcntl");
        std::cout << "fan-out: " << kWorkers << " workers, " << n << " numbers; worker w takes indices w, w+"
                  << kWorkers << ", w+" << 2 * kWorkers << ", ...\n"
                  << "fan-in: " << n << " results x " << sizeof(Result) << " bytes = "
                  << n * sizeof(Result) << " bytes; the pipe holds " << holds << " bytes\n";
        std::vector<Child> workers;
        for (int w = 0; w < kWorkers; ++w)
            workers.emplace_back([&results, w, n] {
                results.read.close();  // a worker only writes
                worker(w, n, results.write.fd);
            });
        results.write.close();  // ours too, or end-of-file never comes
        // Read everything first: a worker blocked on a full pipe never exits.
        std::vector<long> steps;
        long received = 0;
        for (Result r; receive(results.read.fd, r); ++received) steps.push_back(r.steps);  // arrival order
        int finished = 0;  // end-of-file: every worker has closed its end; now reap them
        for (auto& w : workers) finished += w.wait();
        long in_place = 0;
        for (long i = 0; i < n; ++i) in_place += steps[i] == collatz_steps(i + 1);
        std::cout << "results received: " << received << " of " << n << '\n'
                  << "workers finished: " << finished << " of " << kWorkers << '\n'
                  << "results in input order: " << in_place << " of " << n << '\n';
        return received == n && finished == kWorkers && in_place == n ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "gather_results: " << e.what() << '\n';
        return 1;
    }
}
