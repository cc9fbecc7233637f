// pool_ordered.cpp - step 2: the map() of step 1 becomes a Pool that keeps its
// workers, and every task carries its index and the function to run. Each reply is
// tagged with its task's index, so map() stores it in its place: input order,
// whichever worker finished first. apply() is one task, waited for.
#include <sys/wait.h>

#include <cstdint>
#include <iterator>
#include <vector>

#include "pool_step.hpp"  // check, Fd, send/receive, child, run (step 1's page)
using namespace step;

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
    explicit Pool(int n) {  // if a fork() fails, the members built so far are destroyed
        int fds[2];
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        tasks_read_ = Fd(fds[0]), tasks_write_ = Fd(fds[1]);
        check(::pipe2(fds, O_CLOEXEC), "pipe2");
        replies_read_ = Fd(fds[0]), replies_write_ = Fd(fds[1]);
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) child([this] { return work(); });  // never leaves work()
            workers_.pids.push_back(pid);
        }
        replies_write_.close();  // only workers write: all of them dead -> end of file
    }
    std::vector<std::int64_t> map(FnId fn, const std::vector<std::int64_t>& xs) {
        for (std::uint32_t i = 0; i < xs.size(); ++i) send(tasks_write_.get(), Task{fn, i, xs[i]});
        std::vector<std::int64_t> out(xs.size());
        for (std::size_t got = 0; got < xs.size(); ++got) {
            Reply r;
            if (!receive(replies_read_.get(), r)) throw std::runtime_error("the workers died before the last result");
            out.at(r.index) = r.value;  // its place, not its arrival order
        }
        return out;
    }
    std::int64_t apply(FnId fn, std::int64_t x) { return map(fn, {x}).at(0); }

private:
    int work() {  // the worker loop: read a task, run registry[fn], reply with the index
        tasks_write_.close();
        Task t;
        while (receive(tasks_read_.get(), t) && t.fn < std::size(registry))
            send(replies_write_.get(), Reply{t.index, registry[t.fn](t.arg)});
        return 0;
    }
    struct Workers {  // like leaving Python's `with Pool()`: terminate(), kill and reap
        std::vector<pid_t> pids;
        ~Workers() { for (pid_t p : pids) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0); }
    };
    Fd tasks_read_, tasks_write_, replies_read_, replies_write_;
    Workers workers_;  // last: destroyed first, so the workers die before their pipes close
};

int main(int argc, char* argv[]) {
    return run(argc, argv, "pool_ordered", [] {
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
        return ordered && c == 343;
    });
}
