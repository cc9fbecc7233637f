// pipe_two_consumers.cpp - two consumers on one pipe. A frame read as a header
// and then a payload is two read()s, and the other consumer can read in between:
// frames tear (Python's Queue holds a reader lock). Linux's lock-free fix: a pipe in
// packet mode (O_DIRECT): one read() returns one write() of at most PIPE_BUF bytes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child { ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); } pid_t pid = -1; };

// Reaps a child that has ended by itself; true if it exited with 0.
bool exited_ok(Child& c) {
    int status = 0;
    check(::waitpid(c.pid, &status, 0), "waitpid"); c.pid = -1;  // reaped
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

constexpr int messages = 400;

// One read() per message: the packet is whole, or it is not a packet at all.
// The message says how long it is, so the consumer can tell a torn one.
int consume(int in, int results) {
    int whole = 0, torn = 0;
    char buf[PIPE_BUF + 1];
    for (ssize_t n; (n = check(static_cast<int>(::read(in, buf, PIPE_BUF)), "read")) > 0;) {
        buf[n] = '\0'; int length = 0;
        (std::sscanf(buf, "%4d", &length) == 1 && length == n ? whole : torn) += 1;
    }
    if (::dprintf(results, "%d %d\n", whole, torn) < 0) check(-1, "dprintf");
    return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) { std::fprintf(stderr, "usage: %s\n", argv[0]); return 2; }
    try {
        int jobs[2], results[2];
        check(::pipe2(jobs, O_DIRECT), "pipe2");   // O_DIRECT: packet mode
        check(::pipe(results), "pipe");
        ::signal(SIGPIPE, SIG_IGN);      // no consumer left: write() fails with EPIPE
        Child a{check(::fork(), "fork")};
        Child b{a.pid == 0 ? 0 : check(::fork(), "fork")};   // consumer a forks no more
        if (a.pid == 0 || b.pid == 0) {  // a consumer ends here, whatever happens
            int code = 1;
            ::close(jobs[1]); ::close(results[0]);   // else our own write end keeps EOF away
            try { code = consume(jobs[0], results[1]); } catch (const std::exception& e) {
                std::fprintf(stderr, "pipe_two_consumers (child): %s\n", e.what());
            } catch (...) {}
            _exit(code);
        }
        ::close(jobs[0]); ::close(results[1]);
        for (int i = 0; i < messages; ++i) {
            char msg[PIPE_BUF];          // 10..409 bytes: its length in 4 digits, then zeros
            const int len = std::snprintf(msg, sizeof msg, "%04d%0*d", 10 + i, 6 + i, 0);
            check(static_cast<int>(::write(jobs[1], msg, static_cast<size_t>(len))), "write");
        }
        ::close(jobs[1]);                // end-of-file: both consumers finish
        int whole = 0, torn = 0, w, t;
        FILE* in = ::fdopen(results[0], "r");
        if (!in) check(-1, "fdopen");
        while (std::fscanf(in, "%d %d", &w, &t) == 2) { whole += w; torn += t; }
        std::fclose(in);                 // a consumer that died sent nothing: counts fall short
        bool ok = exited_ok(a) && exited_ok(b);   // both ended by themselves at EOF
        std::printf("2 consumers, one packet-mode pipe: %d whole messages, %d torn (expected %d, 0)\n",
                    whole, torn, messages);
        ok = ok && whole == messages && torn == 0;
        std::printf("%s\n", ok ? "one read() = one message: no reader lock needed" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pipe_two_consumers: %s\n", e.what());
        return 1;
    }
}
