// sigchld_signalfd.cpp — signals as data: SIGCHLD and SIGINT read from a signalfd.
//
// The parent blocks SIGCHLD and SIGINT and reads them from a descriptor, in
// ordinary code: no handler, no async-signal-safety worries. It runs three jobs
// one after another; each SIGCHLD means "a job ended", so it reaps and starts the
// next. After the third it sends itself SIGINT (what Ctrl-C does): the same read().
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <map>
#include <stdexcept>
#include <system_error>

namespace {

constexpr int kJobs = 3;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd { int fd; ~Fd() { ::close(fd); } };   // owns one descriptor

/// Owns the running jobs (pid -> job number): kills and reaps any left if we leave early.
struct Jobs : std::map<pid_t, int> {
    Jobs() = default;
    Jobs(const Jobs&) = delete;
    ~Jobs() {
        for (auto& [pid, job] : *this)
            if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }
};

void start_job(Jobs& jobs, int job) {
    std::fflush(stdout);
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {   // the job: 20 ms of "work", then exit with its number
        timespec twenty_ms{0, 20'000'000};
        ::nanosleep(&twenty_ms, nullptr);
        _exit(job);
    }
    jobs[pid] = job;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: sigchld_signalfd (takes no arguments)\n");
        return 2;
    }
    try {
        sigset_t handled;   // blocked before the first fork: nothing slips by
        sigemptyset(&handled);
        sigaddset(&handled, SIGCHLD);
        sigaddset(&handled, SIGINT);
        check(::sigprocmask(SIG_BLOCK, &handled, nullptr), "sigprocmask");
        Fd sigfd{check(::signalfd(-1, &handled, SFD_CLOEXEC), "signalfd")};

        Jobs jobs;
        int reaped = 0;
        start_job(jobs, 1);
        for (bool interrupted = false; !interrupted;) {
            pollfd p{sigfd.fd, POLLIN, 0};   // bounded: a job ends within 20 ms
            if (check(::poll(&p, 1, 2000), "poll") == 0) throw std::runtime_error("no signal in 2 s");
            signalfd_siginfo info{};
            if (::read(sigfd.fd, &info, sizeof info) != static_cast<ssize_t>(sizeof info))
                check(-1, "read");
            if (info.ssi_signo == SIGINT) {
                std::printf("SIGINT from %s: leaving the loop\n",
                            static_cast<pid_t>(info.ssi_pid) == ::getpid() ? "this process" : "elsewhere");
                interrupted = true;
                continue;
            }
            std::printf("SIGCHLD: pid %u exited with code %d\n", info.ssi_pid, info.ssi_status);
            int status = 0;   // one SIGCHLD may stand for several children: reap in a loop
            for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0; ++reaped) {
                std::printf("  reaped job %d, exit code %d\n", jobs[pid], WEXITSTATUS(status));
                jobs.erase(pid);   // reaped: its PID may belong to someone else now
            }
            if (reaped < kJobs) {
                start_job(jobs, reaped + 1);
            } else {
                std::printf("all %d jobs done; simulating Ctrl-C with kill(getpid(), SIGINT)\n", kJobs);
                check(::kill(::getpid(), SIGINT), "kill");
            }
        }
        bool ok = reaped == kJobs && jobs.empty();
        std::printf("%s\n", ok ? "ok: every signal arrived as a read() and every job was reaped"
                               : "FAIL: a job was not reaped");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "sigchld_signalfd: %s\n", e.what());
        return 1;
    }
}
