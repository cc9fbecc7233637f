// syslog_service.cpp - a service logs to the system's own log, as Python's
// SysLogHandler does: syslog(3) sends each record as one datagram to /dev/log,
// where a daemon (rsyslog, journald) stamps and stores it. Each record is one
// message, so records from many processes never mix. LOG_PID adds the sender's
// PID; LOG_PERROR also copies each record to stderr, so you see what was sent.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p = -1) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

// Is anyone listening? syslog() cannot say: without a daemon it drops records
// silently. A datagram socket connects to /dev/log only if a daemon bound it.
std::string system_log() {
    const int s = check(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), "socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "/dev/log");
    const int rc = ::connect(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int error = errno;
    ::close(s);
    if (rc == 0) return "a daemon listens on /dev/log: it stores these records";
    return std::string("none on this machine (/dev/log: ") + std::strerror(error) +
           "): syslog() dropped the records, only the copies above exist";
}

// A worker logs its jobs; job 2 fails, and the record says why.
int worker(int id) {
    syslog(LOG_INFO, "worker %d: job 1 done", id);
    if (::open("/nonexistent/job2.conf", O_RDONLY | O_CLOEXEC) == -1)
        syslog(LOG_ERR, "worker %d: job 2 failed: %s", id, std::strerror(errno));
    return 0;
}

int main(int argc, char* argv[]) {
    if (argc > 1) { std::cerr << "usage: " << argv[0] << '\n'; return 2; }
    try {
        // LOG_NDELAY: connect now, so the workers inherit the connection.
        openlog("syslog_service", LOG_PID | LOG_NDELAY | LOG_PERROR, LOG_USER);
        syslog(LOG_NOTICE, "service started with 2 workers");
        Child child[2];
        for (int id = 0; id < 2; ++id) {
            std::cout.flush();  // else a child inherits our buffer and prints it again
            child[id].pid = check(::fork(), "fork");
            if (child[id].pid == 0) {  // the child ends here, whatever happens
                int code = 1;
                try { code = worker(id + 1); } catch (...) {}
                _exit(code);
            }
        }
        bool workers_ok = true;
        for (Child& c : child) {  // each ends by itself
            int status = 0;
            check(::waitpid(c.pid, &status, 0), "waitpid");
            c.pid = -1;
            workers_ok = workers_ok && status == 0;
        }
        syslog(LOG_NOTICE, "service stopped");
        closelog();
        std::cout << "system log: " << system_log() << '\n';
        return workers_ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "syslog_service: " << e.what() << '\n';
        return 1;
    }
}
