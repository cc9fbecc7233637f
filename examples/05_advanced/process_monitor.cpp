// process_monitor.cpp — state, CPU time, memory and threads of children, from /proc.
//
// Python reaches for psutil: Process(pid).status(), cpu_times(), memory_info().rss,
// num_threads(). On Linux psutil reads /proc/<pid>/stat; so do we. Three children
// give the monitor something to see: one burns CPU, one holds 32 MiB, one runs
// 5 threads. At the end we watch a child become a zombie and vanish when reaped.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <csignal>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {


using Clock = std::chrono::steady_clock;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

/// Owns one file descriptor.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) { reset(); fd_ = std::exchange(other.fd_, -1); }
        return *this;
    }
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

/// One reading of /proc/<pid>/stat (what psutil calls status, cpu_times,
/// memory_info().rss and num_threads).
struct ProcInfo {
    char state = '?';     // R running, S sleeping, D disk wait, Z zombie, ...
    double cpu_seconds = 0;
    double rss_mib = 0;
    int threads = 0;
};

std::optional<ProcInfo> read_proc(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return std::nullopt;   // gone (or not ours to see)
    // Field 2 is "(comm)" and comm may contain spaces or ')': split after the LAST ')'.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> f;   // f[0] is field 3 of proc(5), f[k] is field k+3
    for (std::string tok; rest >> tok;) f.push_back(tok);
    if (f.size() < 22) return std::nullopt;
    static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
    static const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    ProcInfo info;
    info.state = f[0][0];
    info.cpu_seconds = (std::stod(f[11]) + std::stod(f[12])) / ticks;   // utime + stime
    info.threads = std::stoi(f[17]);
    info.rss_mib = std::stod(f[21]) * page / (1024.0 * 1024.0);
    return info;
}

/// Keeps a list of children and prints a table like the psutil loop does.
class ProcessMonitor {
public:
    void watch(std::string name, pid_t pid) { procs_.push_back({std::move(name), pid, 0.0}); }

    /// Prints one row per child; CPU % is measured since the previous report.
    std::vector<ProcInfo> report(const char* title) {
        auto now = Clock::now();
        double wall = std::chrono::duration<double>(now - last_).count();
        last_ = now;
        std::printf("%s\n", title);
        std::vector<ProcInfo> rows;
        for (auto& p : procs_) {
            ProcInfo info = read_proc(p.pid).value_or(ProcInfo{});
            double percent = wall > 0 ? 100.0 * (info.cpu_seconds - p.last_cpu) / wall : 0.0;
            p.last_cpu = info.cpu_seconds;
            std::printf("  %-7s state %c  cpu %5.2f s (%5.1f%%)  rss %5.1f MiB  threads %d\n", p.name.c_str(),
                        info.state, info.cpu_seconds, percent, info.rss_mib, info.threads);
            rows.push_back(info);
        }
        std::fflush(stdout);
        return rows;
    }
private:
    struct Entry { std::string name; pid_t pid; double last_cpu; };
    std::vector<Entry> procs_;
    Clock::time_point last_ = Clock::now();
};

// ---------------------------------------------------- the watched children
double my_cpu_seconds() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void tell(int fd) { if (::write(fd, "!", 1) != 1) std::_Exit(3); }

/// Blocks until the parent closes the "stop" pipe (state S while we wait).
void wait_for_stop(int stop_fd) {
    char c;
    while (::read(stop_fd, &c, 1) == -1 && errno == EINTR) {}
}

void cpu_child(int ready, int stop) {
    tell(ready);
    volatile unsigned long x = 0;
    while (my_cpu_seconds() < 0.3) x = x + 1;   // burn 0.3 s of CPU time
    tell(ready);                                 // second byte: "done spinning"
    wait_for_stop(stop);
}

void memory_child(int ready, int stop) {
    // mmap, not std::vector: an optimiser may elide an unused heap allocation.
    constexpr size_t size = 32u << 20;
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) std::_Exit(4);
    std::memset(block, 1, size);   // touching every page makes it resident
    tell(ready);
    wait_for_stop(stop);
    ::munmap(block, size);
}

void threads_child(int ready, int stop) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::vector<std::thread> pool;
    for (int i = 0; i < 4; ++i)
        pool.emplace_back([&] { std::unique_lock lk(m); cv.wait(lk, [&] { return done; }); });
    tell(ready);
    wait_for_stop(stop);
    { std::lock_guard lk(m); done = true; }
    cv.notify_all();
    for (auto& t : pool) t.join();
}

/// Forks a child running `body`; the child exits when `body` returns.
template <class Body> pid_t spawn_child(Body body, int ready, int stop, std::vector<int> close_in_child) {
    std::fflush(stdout);
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {  // the child ends here, whatever happens: never in main's code
        int code = 1;
        try {
            for (int fd : close_in_child) ::close(fd);
            body(ready, stop);
            code = 0;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "process_monitor: child: %s\n", e.what());
        }
        std::fflush(stdout);
        _exit(code);
    }
    return pid;
}

/// Owns the children: kills and reaps those we have not reaped if we leave early.
struct Children {
    std::vector<pid_t> pids;
    Children() = default;
    Children(const Children&) = delete;
    ~Children() {
        for (pid_t pid : pids)
            if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

void read_bytes(int fd, int n) {
    char c;
    for (int i = 0; i < n;) {
        ssize_t r = ::read(fd, &c, 1);
        if (r == 1) ++i;
        else if (r == 0) throw std::runtime_error("a child died early");
        else if (errno != EINTR) check(-1, "read");
    }
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: process_monitor (takes no arguments)\n");
        return 2;
    }
    try {
    int fds[2];
    check(::pipe(fds), "pipe");
    Fd ready_r(fds[0]), ready_w(fds[1]);
    check(::pipe(fds), "pipe");
    Fd stop_r(fds[0]), stop_w(fds[1]);
    std::vector<int> parent_ends = {ready_r.get(), stop_w.get()};

    ProcessMonitor monitor;
    Children children;
    auto& pids = children.pids;
    pids.push_back(spawn_child(cpu_child, ready_w.get(), stop_r.get(), parent_ends));
    pids.push_back(spawn_child(memory_child, ready_w.get(), stop_r.get(), parent_ends));
    pids.push_back(spawn_child(threads_child, ready_w.get(), stop_r.get(), parent_ends));
    ready_w.reset();
    stop_r.reset();
    monitor.watch("cpu", pids[0]);
    monitor.watch("memory", pids[1]);
    monitor.watch("threads", pids[2]);

    read_bytes(ready_r.get(), 3);   // every child is set up
    monitor.report("sample 1: all three children ready");
    read_bytes(ready_r.get(), 1);   // the cpu child has burnt its 0.3 s
    auto rows = monitor.report("sample 2: after the cpu child burnt 0.3 s of CPU");

    bool ok = true;
    auto claim = [&](bool holds, const char* text) {
        std::printf("%s %s\n", holds ? "ok:" : "FAIL:", text);
        ok = ok && holds;
    };
    claim(rows[0].cpu_seconds >= 0.29, "cpu child: CPU time >= 0.3 s (utime + stime, in clock ticks)");
    claim(rows[1].rss_mib >= 32.0, "memory child: RSS >= 32 MiB (the pages it touched are resident)");
    claim(rows[2].threads == 5, "threads child: 5 threads (main + 4)");
    claim(rows[1].state == 'S' && rows[2].state == 'S', "idle children are in state S (sleeping in read or wait)");

    stop_w.reset();   // EOF on the stop pipe: every child exits
    bool zombies = true;
    for (pid_t pid : pids) {   // exited but not yet waited for: state Z
        auto until = Clock::now() + std::chrono::seconds(2);
        std::optional<ProcInfo> info;
        while ((info = read_proc(pid)) && info->state != 'Z' && Clock::now() < until)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        zombies = zombies && info && info->state == 'Z';
    }
    claim(zombies, "after exiting, before waitpid(): every child is a zombie (state Z)");
    bool gone = true;
    for (pid_t& pid : pids) {
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");
        gone = gone && WIFEXITED(status) && WEXITSTATUS(status) == 0 && !read_proc(pid);
        pid = -1;   // reaped: the pid may now belong to someone else
    }
    claim(gone, "after waitpid(): exit code 0 and /proc/<pid> is gone");
    return ok ? 0 : 1;
    } catch (const std::exception& e) {   // ~Children has killed and reaped the children
        std::fflush(stdout);
        std::fprintf(stderr, "process_monitor: %s\n", e.what());
        return 1;
    }
}
