// process_monitor.cpp — state, CPU time, memory and threads of a child, from /proc.
//
// Python reaches for psutil: Process(pid).status(), cpu_times(), memory_info().rss,
// num_threads(). On Linux psutil reads /proc/<pid>/stat; so do we. The child gives the
// monitor something to see: it touches 32 MiB, starts 4 threads and burns 0.3 s of CPU.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct Fd { int fd = -1; ~Fd() { if (fd >= 0) ::close(fd); } };   // owns one descriptor

/// One reading of /proc/<pid>/stat: what psutil calls status, cpu_times, rss, num_threads.
struct ProcInfo { char state = '?'; double cpu_seconds = 0, rss_mib = 0; int threads = 0; };

ProcInfo read_proc(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return {};   // gone (psutil: NoSuchProcess)
    // Field 2 is "(comm)" and comm may contain spaces or ')': split after the LAST ')'.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> f;   // f[0] is field 3 of proc(5), f[k] is field k+3
    for (std::string tok; rest >> tok;) f.push_back(tok);
    if (f.size() < 22) return {};
    const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));   // usually 100 a second
    const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    return {f[0][0], (std::stod(f[11]) + std::stod(f[12])) / ticks,   // utime + stime
            std::stod(f[21]) * page / (1 << 20), std::stoi(f[17])};   // rss in pages, num_threads
}

/// The watched child: 32 MiB touched, 4 idle threads, then 0.3 s of CPU; it says "ready"
/// before and after spinning, then sleeps in read() until the parent closes `stop`.
void watched_child(int ready, int stop) {
    constexpr size_t size = 32u << 20;   // mmap, not a vector: an unused one may be optimised away
    void* block = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (block == MAP_FAILED) _exit(4);
    std::memset(block, 1, size);   // touching every page makes it resident
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back([stop] { char c; (void)!::read(stop, &c, 1); });
    if (::write(ready, "!", 1) != 1) _exit(3);
    timespec cpu{};
    do ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu); while (cpu.tv_sec == 0 && cpu.tv_nsec < 300'000'000);
    if (::write(ready, "!", 1) != 1) _exit(3);
    for (auto& t : threads) t.join();   // they return at end-of-file on `stop`
    _exit(0);
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
        Fd ready_r{fds[0]}, ready_w{fds[1]};
        check(::pipe(fds), "pipe");
        Fd stop_r{fds[0]}, stop_w{fds[1]};
        std::fflush(stdout);
        Child child(check(::fork(), "fork"));
        if (child.pid == 0) {   // the child ends here, whatever happens: never in main's code
            ::close(ready_r.fd);
            ::close(stop_w.fd);
            try { watched_child(ready_w.fd, stop_r.fd); } catch (...) {}   // std::thread may throw
            _exit(1);
        }
        ::close(ready_w.fd);   // our copies: a dead child means end-of-file, never a hang
        ready_w.fd = -1;
        auto sample = [&] {   // after the child's next "ready" byte
            char c;
            if (check(static_cast<int>(::read(ready_r.fd, &c, 1)), "read") != 1)
                throw std::runtime_error("the child died early");
            return std::make_pair(read_proc(child.pid), std::chrono::steady_clock::now());
        };
        auto [before, t0] = sample();   // set up, about to spin
        auto [after, t1] = sample();    // done spinning
        for (int i = 0; i < 500 && after.state != 'S'; ++i) {   // going to sleep in join(): wait for S
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            after = read_proc(child.pid);
        }
        for (const ProcInfo& p : {before, after})
            std::printf("state %c  cpu %4.2f s  rss %4.1f MiB  threads %d\n", p.state, p.cpu_seconds,
                        p.rss_mib, p.threads);
        double wall = std::chrono::duration<double>(t1 - t0).count();
        std::printf("cpu_percent between the samples: %.0f %% of one core (it varies)\n",
                    100 * (after.cpu_seconds - before.cpu_seconds) / wall);
        bool ok = after.cpu_seconds >= 0.29 && after.rss_mib >= 32 && after.threads == 5 && after.state == 'S';
        std::printf("%s: cpu >= 0.3 s (ticks / _SC_CLK_TCK), rss >= 32 MiB (touched pages), 5 threads, "
                    "asleep (S)\n", ok ? "ok" : "FAIL");
        ::close(stop_w.fd);   // end-of-file on the stop pipe: the child's threads return, it exits
        stop_w.fd = -1;
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");
        child.pid = -1;
        return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    } catch (const std::exception& e) {   // ~Child has killed and reaped the child
        std::fflush(stdout);
        std::fprintf(stderr, "process_monitor: %s\n", e.what());
        return 1;
    }
}
