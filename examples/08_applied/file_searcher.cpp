// file_searcher.cpp - exercise solution: a parallel, cancellable regex file searcher.
//
// The parent creates a temporary directory of log files, then worker processes
// search them for a regular expression. The parent hands out one file at a time,
// prints matches and progress as they arrive, and on SIGINT (Ctrl-C) stops handing
// out work, lets each worker finish its current file, reaps everyone and removes the
// temporary files. The second search below interrupts itself to show exactly that.
#include "plumbing.hpp"  // check, Fd, Pipe, ChildGroup, start, send, receive, TempDir

#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <fstream>
#include <new>
#include <regex>
#include <thread>

namespace fs = std::filesystem;

namespace {

constexpr int kWorkers = 3;
constexpr int kFiles = 120;
constexpr int kLinesPerFile = 200;
constexpr auto kSlowDisk = std::chrono::milliseconds(3);   // per file, so progress is visible
const char* const kPattern = R"(ERROR code=5\d\d)";        // server errors only

std::string file_name(int i) {
    char name[32];
    std::snprintf(name, sizeof name, "log_%03d.txt", i);
    return name;
}

/// Log files full of noise; every 15th file has one server error (code 5xx), and
/// client errors (code 4xx) are decoys the pattern must not match.
int create_logs(const fs::path& dir) {
    int planted = 0;
    for (int f = 0; f < kFiles; ++f) {
        std::ofstream out(dir / file_name(f));
        for (int line = 1; line <= kLinesPerFile; ++line) {
            if (f % 15 == 0 && line == 1 + (f * 7) % kLinesPerFile) {
                out << "ERROR code=50" << f % 4 << " upstream timed out\n";
                ++planted;
            } else if (line % 50 == 0) {
                out << "ERROR code=404 not found: /page/" << line << '\n';
            } else {
                out << "INFO request " << f * 1000 + line << " served in " << line % 37 << " ms\n";
            }
        }
        if (!out) throw std::runtime_error("write log file");
    }
    return planted;
}

/// Messages from workers to the parent: fixed size, below PIPE_BUF, so a write()
/// from one worker is never interleaved with another's.
struct Message {
    enum Kind : int { kMatch, kFileDone } kind;
    int file;
    int line;
    char text[120];
};
static_assert(sizeof(Message) <= PIPE_BUF);

/// Worker: take file numbers until the queue closes or the search is cancelled.
[[noreturn]] void worker(const fs::path& dir, int tasks, int results,
                         const std::atomic<bool>& cancelled) {
    const std::regex pattern(kPattern);
    for (int f; !cancelled && receive(tasks, f);) {
        if (cancelled) break;   // queued before the cancel: skip it
        std::this_thread::sleep_for(kSlowDisk);
        std::ifstream in(dir / file_name(f));
        std::string text;
        for (int line = 1; std::getline(in, text); ++line)
            if (std::regex_search(text, pattern)) {
                Message m{Message::kMatch, f, line, {}};
                std::snprintf(m.text, sizeof m.text, "%s", text.c_str());
                send(results, m);
            }
        send(results, Message{Message::kFileDone, f, 0, {}});
    }
    _exit(0);
}

struct Outcome { int files_done = 0, matches = 0; bool cancelled = false, workers_ok = true; };

/// One search. `interrupt_after` >= 0 makes the parent send itself SIGINT after that
/// many files: the captured run shows what pressing Ctrl-C does.
// ANCHOR: search
Outcome search(const fs::path& dir, bool print_matches, int interrupt_after,
               std::atomic<bool>& cancelled, int sigint_fd) {
    cancelled = false;
    Pipe tasks(O_DIRECT), results;   // packet mode: each read() is exactly one file number
    check(fcntl(tasks.write.get(), F_SETFL, O_NONBLOCK), "fcntl");
    ChildGroup children;
    for (int w = 0; w < kWorkers; ++w)
        children.add(start({&tasks.write, &results.read}, [&] {
            signal(SIGINT, SIG_IGN);   // Ctrl-C reaches the whole process group; the parent decides
            worker(dir, tasks.read.get(), results.write.get(), cancelled);   // ends with _exit(0)
        }));
    tasks.read.close();
    results.write.close();
// ANCHOR_END: search

// ANCHOR: loop
    Outcome o;
    int next_file = 0;
    for (bool results_open = true; results_open;) {
        pollfd fds[3] = {{sigint_fd, POLLIN, 0}, {results.read.get(), POLLIN, 0},
                         {tasks.write.get(), POLLOUT, 0}};   // fd -1 is ignored by poll
        if (poll(fds, 3, -1) == -1) {
            if (errno == EINTR) continue;
            check(-1, "poll");
        }
        if (fds[0].revents & POLLIN) {   // Ctrl-C: stop handing out work, keep draining
            signalfd_siginfo info;
            check(read(sigint_fd, &info, sizeof info), "read signalfd");
            std::cout << "SIGINT received: cancelling; workers finish their current file\n";
            cancelled = true;
            o.cancelled = true;
            tasks.write.close();
        }
        // The queue has room: hand out one more file. Not if the SIGINT branch just
        // closed the queue: poll() reported both at once, and the fd is now -1.
        if ((fds[2].revents & POLLOUT) && tasks.write.get() != -1) {
            send(tasks.write.get(), next_file);
            if (++next_file == kFiles) tasks.write.close();
        }
        if (fds[1].revents & (POLLIN | POLLHUP)) {
            Message m;
            if (!receive(results.read.get(), m)) { results_open = false; continue; }
            if (m.kind == Message::kMatch) {
                ++o.matches;
                if (print_matches)
                    std::cout << "match: " << file_name(m.file) << ':' << m.line << ": " << m.text << '\n';
            } else if (++o.files_done % 30 == 0 && print_matches) {
                std::cout << "progress: " << o.files_done << '/' << kFiles << " files, "
                          << o.matches << " matches so far\n";
            }
            if (o.files_done == interrupt_after && !o.cancelled) {
                std::cout << "(demo) sending SIGINT to myself after " << interrupt_after
                          << " files, as Ctrl-C would\n";
                check(kill(getpid(), SIGINT), "kill");
            }
        }
    }
    o.workers_ok = children.wait_all() && o.workers_ok;   // results at EOF: they have ended
    return o;
}
// ANCHOR_END: loop

// ANCHOR: sigint
/// SIGINT as a readable file descriptor: blocked as a signal, read in the poll loop.
Fd sigint_as_fd() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    check(sigprocmask(SIG_BLOCK, &set, nullptr), "sigprocmask");
    return Fd(static_cast<int>(check(signalfd(-1, &set, SFD_CLOEXEC), "signalfd")));
}
// ANCHOR_END: sigint

}  // namespace

int run() {
    // ANCHOR: shared
    void* mem = mmap(nullptr, sizeof(std::atomic<bool>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) check(-1, "mmap");
    struct Unmap { void* p; ~Unmap() { munmap(p, sizeof(std::atomic<bool>)); } } unmap{mem};
    auto& cancelled = *new (mem) std::atomic<bool>(false);   // seen by every worker
    static_assert(std::atomic<bool>::is_always_lock_free);
    // ANCHOR_END: shared

    Fd sigint = sigint_as_fd();
    bool ok = true;
    {
        TempDir tmp("file_searcher");
        const int planted = create_logs(tmp.path());
        std::cout << "created " << kFiles << " log files in a temporary directory; pattern /"
                  << kPattern << "/, " << kWorkers << " worker processes\n";

        std::cout << "search 1: full run\n";
        Outcome full = search(tmp.path(), true, -1, cancelled, sigint.get());
        if (full.cancelled) {   // a real Ctrl-C during the first search
            std::cout << "cancelled by the user\n";
            return 130;         // TempDir and the rest are cleaned up on the way out
        }
        std::cout << "search 1: " << full.files_done << " files, " << full.matches
                  << " matches (planted " << planted << ")\n";

        std::cout << "search 2: the same search, interrupted\n";
        Outcome cut = search(tmp.path(), false, 40, cancelled, sigint.get());
        std::cout << "search 2: cancelled after " << cut.files_done << " of " << kFiles
                  << " files; every worker exited: " << (cut.workers_ok ? "yes" : "no") << '\n';
        ok = full.files_done == kFiles && full.matches == planted && full.workers_ok &&
             cut.cancelled && cut.files_done < kFiles && cut.workers_ok;
        std::cout << "stopped early and cleanly: " << (cut.cancelled && cut.files_done < kFiles ? "yes" : "no")
                  << '\n';
        std::cout.flush();
    }   // TempDir removes the logs here, cancelled or not
    return ok ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "file_searcher: " << e.what() << '\n';
        return 1;
    }
}
