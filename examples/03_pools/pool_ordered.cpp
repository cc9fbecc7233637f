// pool_ordered.cpp - step 2: the map() of step 1 becomes a Pool that keeps its
// workers, and every task carries its index and the function to run. Each reply is
// tagged with its task's index, so map() stores it in its place: input order,
// whichever worker finished first. apply() is one task, waited for.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace {
int check(int rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Python sends a function by name; a forked worker already has every function, so a
// task names one by its place in this table, filled before fork().
using Fn = std::int64_t (*)(std::int64_t);
std::int64_t square(std::int64_t x) { ::usleep(static_cast<useconds_t>(24000 - 2000 * x)); return x * x; }
std::int64_t cube(std::int64_t x) { return x * x * x; }
const Fn registry[] = {square, cube};
enum FnId : std::uint32_t { kSquare, kCube };

struct Task { std::uint32_t fn, index; std::int64_t arg; };  // 16 bytes <= PIPE_BUF
struct Reply { std::uint32_t index; std::int64_t value; };

class Pool {
public:
    explicit Pool(int n) : Pool() {  // delegating: if this throws, ~Pool() still runs
        check(::pipe2(tasks_, O_CLOEXEC), "pipe2");
        check(::pipe2(replies_, O_CLOEXEC), "pipe2");
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) _exit(work());  // the child never leaves work()
            pids_.push_back(pid);
        }
        ::close(replies_[1]);  // only workers write: all of them dead -> end of file
        replies_[1] = -1;
    }
    ~Pool() {  // like leaving Python's `with Pool()`: terminate()
        for (pid_t p : pids_) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
        for (int fd : {tasks_[0], tasks_[1], replies_[0], replies_[1]}) if (fd != -1) ::close(fd);
    }
    std::vector<std::int64_t> map(FnId fn, const std::vector<std::int64_t>& xs) {
        for (std::uint32_t i = 0; i < xs.size(); ++i) {
            const Task task{fn, i, xs[i]};
            check(static_cast<int>(::write(tasks_[1], &task, sizeof task)), "write");
        }
        std::vector<std::int64_t> out(xs.size());
        for (std::size_t got = 0; got < xs.size(); ++got) {
            Reply r;
            if (check(static_cast<int>(::read(replies_[0], &r, sizeof r)), "read") == 0)
                throw std::runtime_error("the workers died before the last result");
            out.at(r.index) = r.value;  // its place, not its arrival order
        }
        return out;
    }
    std::int64_t apply(FnId fn, std::int64_t x) { return map(fn, {x}).at(0); }

private:
    Pool() = default;
    int work() {  // the worker loop: read a task, run registry[fn], reply with the index
        ::close(tasks_[1]);
        Task t;
        while (::read(tasks_[0], &t, sizeof t) == sizeof t && t.fn < std::size(registry)) {
            const Reply r{t.index, registry[t.fn](t.arg)};
            if (::write(replies_[1], &r, sizeof r) != sizeof r) return 1;
        }
        return 0;
    }
    int tasks_[2]{-1, -1}, replies_[2]{-1, -1};
    std::vector<pid_t> pids_;
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        Pool pool(3);
        const auto ys = pool.map(kSquare, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
        bool ordered = true;
        std::cout << "pool.map(square, 0..11):";
        for (std::size_t i = 0; i < ys.size(); ++i) {
            std::cout << ' ' << ys[i];
            ordered = ordered && ys[i] == std::int64_t(i * i);
        }
        const std::int64_t c = pool.apply(kCube, 7);
        std::cout << "\nin input order: " << (ordered ? "yes" : "NO")
                  << "\npool.apply(cube, 7) = " << c << (c == 343 ? " (expected 343)" : " WRONG") << '\n';
        return ordered && c == 343 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "pool_ordered: " << e.what() << '\n';
        return 1;
    }
}
