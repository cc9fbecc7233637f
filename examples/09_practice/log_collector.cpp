// log_collector.cpp - Python's QueueHandler/QueueListener as processes. Workers
// send each record as one line, in one write(), into a pipe they share; one
// collector process reads it and is the only writer of the log. A pipe write of
// at most PIPE_BUF bytes is atomic, so a record arrives whole or not at all.
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child running body(); if we leave early, it is killed and reaped.
struct Child {
    template <class Body> explicit Child(Body body) {
        std::cout.flush();  // else the child inherits our buffer and prints it again
        pid = check(::fork(), "fork");
        if (pid != 0) return;
        int code = 1;  // the child: body() and _exit, never back into main's code
        try { code = body(); } catch (...) {}
        std::fflush(stdout);
        _exit(code);
    }
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    int wait() { int s = 0; check(::waitpid(pid, &s, 0), "waitpid"); pid = -1; return s; }
    pid_t pid;
};

// The QueueHandler side: one record, one line, one write() of <= PIPE_BUF bytes.
void send_record(int fd, const std::string& text) {
    const std::string line = text + '\n';
    if (line.size() > PIPE_BUF) throw std::system_error(EMSGSIZE, std::generic_category(), "record");
    check(static_cast<int>(::write(fd, line.data(), line.size())), "write");
}

// A worker logs three steps; worker 3 dies while "writing" its second record.
int worker(int fd, int id) {
    for (int step = 1; step <= 3; ++step) {
        if (id == 3 && step == 2) ::raise(SIGKILL);  // it never reaches that write()
        send_record(fd, "worker " + std::to_string(id) + ": step " + std::to_string(step));
    }
    return 0;
}

// The QueueListener side: the only process that writes the log (here: stdout).
// stdio finds the '\n's whatever read() returns; a line without one is cut short.
int collect(int fd) {
    std::FILE* in = ::fdopen(fd, "r");
    char line[PIPE_BUF + 1];  // a record is at most PIPE_BUF bytes, '\n' included
    int records = 0, cut_short = 0;
    while (in && std::fgets(line, sizeof line, in)) {
        if (std::strchr(line, '\n')) { std::printf("collector: %s", line); ++records; }
        else ++cut_short;
    }
    std::printf("collector: %d records, %d cut short\n", records, cut_short);
    return records == 7 && cut_short == 0 ? 0 : 1;  // 3 + 3 + worker 3's first
}

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        int fd[2];  // fd[0]: the collector reads; fd[1]: every worker writes
        check(::pipe(fd), "pipe");
        Child collector([&] { ::close(fd[1]); return collect(fd[0]); });
        ::close(fd[0]);
        Child w1([&] { return worker(fd[1], 1); });
        Child w2([&] { return worker(fd[1], 2); });
        Child w3([&] { return worker(fd[1], 3); });
        ::close(fd[1]);  // the collector sees end-of-file once every worker is gone
        const bool workers_ok = w1.wait() == 0 && w2.wait() == 0;  // 0: exit(0)
        const int s3 = w3.wait();
        const bool collector_ok = collector.wait() == 0;  // it ends at end-of-file
        std::cout << "worker 3 " << (WIFSIGNALED(s3) ? "was killed by SIGKILL" : "ended")
                  << ": its unsent record is missing, no line is torn\n";
        return workers_ok && collector_ok && WIFSIGNALED(s3) ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "log_collector: " << e.what() << '\n';
        return 1;
    }
}
