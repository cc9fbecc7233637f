// map_in_order (WRONG on purpose: results in arrival order, as imap_unordered gives them) - three forked workers square the
// numbers 0..11 and send their results up one shared pipe, in whatever order they
// finish; the parent puts each result at its task's index, as Pool.map does.
// Python: with Pool(3) as pool: print(pool.map(slow_square, range(12)))
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

constexpr int kWorkers = 3;
constexpr int kTasks = 12;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd {  // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd >= 0) ::close(fd); fd = -1; }
};
struct Pipe {
    Fd read, write;
    Pipe() { int fds[2]; check(::pipe(fds), "pipe"); read.fd = fds[0]; write.fd = fds[1]; }
};
struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

// One result: 16 bytes, written with one write(). A write of at most PIPE_BUF bytes
// is atomic, so records from different workers never mix in the shared pipe.
struct Result {
    std::int64_t task;   // where the value belongs: the arrival order says nothing
    std::int64_t value;
};

std::int64_t slow_square(std::int64_t x) {  // worker 0's tasks are slow
    if (x % kWorkers == 0) std::this_thread::sleep_for(std::chrono::milliseconds(40));
    return x * x;
}

int run_worker(int w, Pipe& results) {  // the child's work: tasks w, w+3, w+6, ...
    results.read.close();
    for (std::int64_t task = w; task < kTasks; task += kWorkers) {
        const Result r{task, slow_square(task)};
        check(static_cast<int>(::write(results.write.fd, &r, sizeof r)), "write");
    }
    return 0;
}

// Reads records to end-of-file; each value goes to its task's index.
std::vector<std::int64_t> collect(int fd, std::vector<std::int64_t>& arrival) {
    std::vector<std::int64_t> values(kTasks, -1);
    for (Result r; check(static_cast<int>(::read(fd, &r, sizeof r)), "read") > 0;) {
        values.at(arrival.size()) = r.value;  // the n-th result to arrive goes to index n
        arrival.push_back(r.task);
    }
    return values;
}

bool reaped_clean(Child& worker) {  // bounded: end-of-file came, so it has ended
    int status = 0;
    check(::waitpid(worker.pid, &status, 0), "waitpid");
    worker.pid = -1;  // reaped
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string line(const char* what, const std::vector<std::int64_t>& numbers) {
    std::string text = what;
    for (std::int64_t n : numbers) text += ' ' + std::to_string(n);
    return text + '\n';
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        Pipe results;
        Child workers[kWorkers];
        std::cout.flush();  // the children must not inherit unprinted output
        for (int w = 0; w < kWorkers; ++w) {
            workers[w].pid = check(::fork(), "fork");
            if (workers[w].pid == 0) {  // the child ends here, whatever happens
                int code = 1;
                try { code = run_worker(w, results); } catch (...) {}
                _exit(code);
            }
        }
        results.write.close();  // ours: end-of-file comes when the last worker exits
        std::vector<std::int64_t> arrival;
        const std::vector<std::int64_t> values = collect(results.read.fd, arrival);
        int clean = 0;
        for (Child& worker : workers) clean += reaped_clean(worker);
        bool ok = clean == kWorkers;
        for (std::int64_t i = 0; i < kTasks; ++i) ok = ok && values[std::size_t(i)] == i * i;
        std::cout << line("arrival order:", arrival) << line("results in task order:", values)
                  << "workers that exited with status 0: " << clean << " of " << kWorkers
                  << (ok ? "\nOK: every result at its task's index\n"
                         : "\nWRONG: a result is missing or out of place\n");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "map_in_order: " << e.what() << '\n';
        return 1;
    }
}
