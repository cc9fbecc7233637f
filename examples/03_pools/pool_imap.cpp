// pool_imap.cpp - step 3: imap() and imap_unordered(). Instead of writing every task
// and then waiting for all results, the pool keeps at most `window` tasks in flight
// and hands each result to the caller as soon as it may: imap() in input order (a
// result that arrives early waits in a buffer), imap_unordered() as it arrives.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace {
int check(int rc, const char* what) {  // a failed call throws, naming the call
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Task { std::uint32_t index; std::int64_t arg; };
struct Reply { std::uint32_t index; std::int64_t value; };

// The pool of step 2, reduced to what imap needs: send one task, take one reply.
struct Pool {
    int task_fds[2]{-1, -1}, reply_fds[2]{-1, -1};
    std::vector<pid_t> pids;
    Pool() = default;
    explicit Pool(int n) : Pool() {  // delegating: if this throws, ~Pool() still runs
        check(::pipe2(task_fds, O_CLOEXEC), "pipe2");
        check(::pipe2(reply_fds, O_CLOEXEC), "pipe2");
        for (int i = 0; i < n; ++i) {
            std::cout.flush();
            const pid_t pid = check(::fork(), "fork");
            if (pid == 0) _exit(work());
            pids.push_back(pid);
        }
        ::close(reply_fds[1]);  // all workers dead -> end of file, not a hang
        reply_fds[1] = -1;
    }
    ~Pool() {  // Python's `with Pool()` ends with terminate()
        for (int fd : {task_fds[0], task_fds[1], reply_fds[0], reply_fds[1]}) if (fd != -1) ::close(fd);
        for (pid_t p : pids) if (::kill(p, SIGKILL) == 0) ::waitpid(p, nullptr, 0);
    }
    int work() {
        ::close(task_fds[1]);
        Task t;
        while (::read(task_fds[0], &t, sizeof t) == sizeof t) {
            ::usleep(5000);  // the work: 5 ms per task
            const Reply r{t.index, t.arg * t.arg};
            if (::write(reply_fds[1], &r, sizeof r) != sizeof r) return 1;
        }
        return 0;
    }
    void send(Task t) { check(static_cast<int>(::write(task_fds[1], &t, sizeof t)), "write"); }
    Reply take() {
        Reply r;
        if (check(static_cast<int>(::read(reply_fds[0], &r, sizeof r)), "read") == 0)
            throw std::runtime_error("the workers died");
        return r;
    }
};

// pool.imap(f, xs) / pool.imap_unordered(f, xs): a lazy stream; next() gives one result.
class Imap {
public:
    Imap(Pool& p, std::vector<std::int64_t> xs, bool ordered, std::size_t window)
        : pool_(p), xs_(std::move(xs)), ordered_(ordered), window_(window) {}
    std::optional<std::int64_t> next() {
        if (returned_ == xs_.size()) return std::nullopt;  // Python: StopIteration
        for (;;) {
            auto ready = ordered_ ? early_.find(static_cast<std::uint32_t>(returned_)) : early_.begin();
            if (ready != early_.end()) {
                const std::int64_t value = ready->second;
                early_.erase(ready);
                ++returned_;
                return value;
            }
            while (sent_ < xs_.size() && sent_ - received_ < window_) {  // keep `window` in flight
                pool_.send({static_cast<std::uint32_t>(sent_), xs_[sent_]});
                ++sent_;
            }
            const Reply r = pool_.take();
            ++received_;
            early_[r.index] = r.value;  // imap: held here until its turn
        }
    }
    std::size_t sent() const { return sent_; }

private:
    Pool& pool_;
    std::vector<std::int64_t> xs_;
    bool ordered_;
    std::size_t window_, sent_ = 0, received_ = 0, returned_ = 0;
    std::map<std::uint32_t, std::int64_t> early_;
};
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a dead pipe throws EPIPE instead
        Pool pool(2);
        std::vector<std::int64_t> xs(20);
        for (std::size_t x = 0; x < xs.size(); ++x) xs[x] = static_cast<std::int64_t>(x);
        bool ok = true;
        for (bool ordered : {true, false}) {
            Imap stream(pool, xs, ordered, 4);
            std::int64_t sum = 0, i = 0;
            std::cout << (ordered ? "imap:          " : "imap_unordered:");
            while (auto y = stream.next()) {
                if (i == 0) {  // the proof of laziness: most tasks are not even sent yet
                    std::cout << " (first result after " << stream.sent() << " of 20 tasks sent)";
                    ok = ok && stream.sent() < xs.size();
                }
                std::cout << ' ' << *y;
                ok = ok && (!ordered || *y == i * i);
                sum += *y;
                ++i;
            }
            ok = ok && sum == 2470 && i == 20;  // 0^2 + ... + 19^2
            std::cout << "\n  sum " << sum << " (expected 2470)\n";
        }
        std::cout << (ok ? "OK" : "FAILED") << ": results streamed before the last task was sent\n";
        return ok ? 0 : 1;
    } catch (const std::exception& e) {  // main catches: the call's name and errno
        std::cerr << "pool_imap: " << e.what() << '\n';
        return 1;
    }
}
