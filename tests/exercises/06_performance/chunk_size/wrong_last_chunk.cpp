// chunk_size (WRONG on purpose: only whole chunks are sent, so the last, shorter one is lost when TASKS is not a multiple of the chunk size) - WORKERS processes add up the numbers
// 0 .. TASKS-1, taking them from one pipe in chunks; the time per task is printed for
// four chunk sizes. Python: Pool(WORKERS).map(f, range(TASKS), chunksize=CHUNK).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace {

constexpr long kChunkSizes[] = {1, 10, 100, 1000};
constexpr int kRepeats = 3;  // each figure is the median of 3 timed runs

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
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
struct Children : std::vector<pid_t> {  // if we leave early, each child is killed and reaped
    ~Children() { for (pid_t pid : *this) if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
};

struct Chunk { long first, count; };  // 16 bytes: one write of it is atomic (<= PIPE_BUF)

void write_all(int fd, const void* data, size_t size) {
    for (size_t done = 0; done < size;)
        done += static_cast<size_t>(check(::write(fd, static_cast<const char*>(data) + done, size - done), "write"));
}

int work(Pipe& tasks, Pipe& results) {  // the worker: chunks until end-of-file
    tasks.write.close();  // else the end-of-file below never comes
    results.read.close();
    long sum = 0;
    Chunk c{};
    while (check(::read(tasks.read.fd, &c, sizeof c), "read") == sizeof c)
        for (long i = c.first; i < c.first + c.count; ++i) sum += i;  // the "task": f(i) = i
    write_all(results.write.fd, &sum, sizeof sum);  // one partial sum per worker
    return 0;
}

long run(long tasks, int workers, long chunk) {  // start, feed and reap the workers: the sum
    Pipe task_pipe, result_pipe;
    Children children;
    for (int w = 0; w < workers; ++w) {
        children.push_back(static_cast<pid_t>(check(::fork(), "fork")));
        if (children.back() == 0) {  // the worker ends here, whatever happens
            int code = 1;
            try { code = work(task_pipe, result_pipe); } catch (...) {}
            _exit(code);
        }
    }
    task_pipe.read.close();
    result_pipe.write.close();  // else the reads below never see end-of-file
    for (long first = 0; first + chunk <= tasks; first += chunk) {
        const Chunk c{first, chunk};  // whole chunks only
        write_all(task_pipe.write.fd, &c, sizeof c);
    }
    task_pipe.write.close();  // end-of-file: the workers send their sums and exit
    long total = 0, part = 0;  // a read returns what is there: loop until end-of-file
    while (check(::read(result_pipe.read.fd, &part, sizeof part), "read") == sizeof part) total += part;
    for (int status = 0; !children.empty(); children.pop_back()) {  // all have ended: EOF came
        check(::waitpid(children.back(), &status, 0), "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) total = -1;  // a worker failed
    }
    return total;
}

double median_us(long tasks, int workers, long chunk, long& sum) {  // per task; sum: a wrong one if any
    std::vector<double> us;
    for (int r = 0; r < kRepeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        const long s = run(tasks, workers, chunk);
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / tasks);
        if (r == 0 || s != tasks * (tasks - 1) / 2) sum = s;
    }
    std::sort(us.begin(), us.end());
    return us[kRepeats / 2];
}

}  // namespace

int main(int argc, char* argv[]) {
    const long tasks = argc == 3 ? std::atol(argv[1]) : 0;
    const int workers = argc == 3 ? std::atoi(argv[2]) : 0;
    if (argc != 3 || tasks < 1 || tasks > 1'000'000 || workers < 1 || workers > 16) {
        std::fprintf(stderr, "usage: %s TASKS WORKERS (1..1000000, 1..16)\n", argv[0]);
        return 2;
    }
    try {
        std::printf("chunk_size: %ld tasks, %d workers, median of %d runs\n", tasks, workers, kRepeats);
        std::fflush(stdout);  // the workers must not inherit unprinted output
        const long expected = tasks * (tasks - 1) / 2;
        bool all_right = true;
        double best_us = 0;
        long best = 0, sum = 0;
        for (long chunk : kChunkSizes) {
            const double us = median_us(tasks, workers, chunk, sum);
            all_right = all_right && sum == expected;
            if (best == 0 || us < best_us) { best = chunk; best_us = us; }
            std::printf("chunk size %4ld: %8.3f us per task, sum %ld (expected %ld)\n", chunk, us, sum, expected);
            std::fflush(stdout);  // before the next fork()
        }
        std::printf("fastest here: chunk size %ld (a figure of this machine, not judged)\n", best);
        return all_right ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chunk_size: %s\n", e.what());
        return 1;
    }
}
