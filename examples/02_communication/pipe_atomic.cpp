// pipe_atomic.cpp - several writers share one pipe with no lock. A write() of
// at most PIPE_BUF bytes is atomic: the kernel never splits it or mixes it with
// another writer's data. Larger writes carry no such promise.
// Python: Queue.put() from many processes relies on the same rule.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>  // PIPE_BUF
#include <cstdio>
#include <deque>
#include <string>
#include <string_view>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

constexpr int writers = 4, records_each = 50;

// Writer w sends records of PIPE_BUF copies of one letter, one write() each.
int writer(int fd, int w) {
    const std::string record(PIPE_BUF, static_cast<char>('A' + w));
    for (int i = 0; i < records_each; ++i)
        if (check(static_cast<int>(::write(fd, record.data(), record.size())), "write") != PIPE_BUF)
            return 1;                    // a short write would break the claim
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int fds[2];
        check(::pipe(fds), "pipe");
        std::deque<Child> children;      // a deque never moves its elements
        for (int w = 0; w < writers; ++w) {
            std::fflush(stdout);         // else a child prints our buffer again
            children.emplace_back(check(::fork(), "fork"));
            if (children.back().pid == 0) {  // a child ends here, whatever happens
                ::close(fds[0]);
                int code = 1;
                try { code = writer(fds[1], w); } catch (const std::exception& e) {
                    std::fprintf(stderr, "pipe_atomic (child): %s\n", e.what());
                } catch (...) {}
                _exit(code);
            }
        }
        ::close(fds[1]);                 // so that read() returns 0 when the writers are done
        std::string all;
        char buf[65536];
        for (ssize_t n; (n = check(static_cast<int>(::read(fds[0], buf, sizeof buf)), "read")) > 0;)
            all.append(buf, static_cast<size_t>(n));
        ::close(fds[0]);
        size_t records = all.size() / PIPE_BUF, torn = 0;
        for (size_t r = 0; r < records; ++r) {     // a torn record has two letters
            std::string_view rec(all.data() + r * PIPE_BUF, PIPE_BUF);
            torn += rec.find_first_not_of(rec[0]) != std::string_view::npos;
        }
        bool ok = all.size() == size_t{writers} * records_each * PIPE_BUF && torn == 0;
        for (Child& c : children) {      // they have ended: we read their end-of-file
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;                  // reaped
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        std::printf("PIPE_BUF = %d: %zu records from %d writers, %zu torn (expected 0)\n",
                    PIPE_BUF, records, writers, torn);
        std::printf("%s\n", ok ? "writes of at most PIPE_BUF bytes are atomic" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_atomic: %s\n", e.what());
        return 1;
    }
}
