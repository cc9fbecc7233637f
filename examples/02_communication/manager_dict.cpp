// manager_dict.cpp — a manager's core: one process owns a map, and other
// processes use it through a proxy that sends each operation as a request and
// waits for the reply. Each call is atomic; a read followed by a write is not.
// Python: d = Manager().dict(), then d['hits'] += 1 in several processes.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <deque>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // kills and reaps a child still running when the scope is left
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};

struct SocketPair {  // SOCK_SEQPACKET keeps boundaries: one send() is one request
    SocketPair() { check(::socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fd), "socketpair"); }
    ~SocketPair() { for (int f : fd) if (f != -1) ::close(f); }
    void close(int end) { ::close(fd[end]); fd[end] = -1; }
    int fd[2] = {-1, -1};  // [0] the manager's end, [1] the client's
};

void send_msg(int fd, const std::string& m) {
    check(static_cast<int>(::send(fd, m.data(), m.size(), MSG_NOSIGNAL)), "send");
}
std::string recv_msg(int fd) {  // "" at end-of-file: the other side is gone
    char buf[64];
    return std::string(buf, static_cast<size_t>(check(static_cast<int>(::recv(fd, buf, sizeof buf, 0)), "recv")));
}

/// Python's DictProxy, reduced to three methods: each is one request and its reply.
struct DictProxy {
    int fd;
    long call(const std::string& op, const std::string& key, long v = 0) {
        send_msg(fd, op + " " + key + " " + std::to_string(v));
        const std::string reply = recv_msg(fd);
        if (reply.empty()) throw std::runtime_error("the manager is gone");
        return std::stol(reply);
    }
    long get(const std::string& k) { return call("get", k); }
    void set(const std::string& k, long v) { call("set", k, v); }
    long add(const std::string& k, long v) { return call("add", k, v); }
};

constexpr int clients = 3, rounds = 300;

void client(int fd) {
    DictProxy d{fd};
    for (int i = 0; i < rounds; ++i) {
        d.add("hits", 1);                  // one call: the manager does it whole
        d.set("racy", d.get("racy") + 1);  // two calls: d['racy'] += 1 in Python
    }
}

/// The manager owns the map and handles one request at a time, so each call is
/// atomic -- but other clients' requests may run between two calls.
std::map<std::string, long> serve(std::vector<pollfd> conns) {
    std::map<std::string, long> dict;
    for (size_t open = conns.size(); open > 0;) {
        check(::poll(conns.data(), conns.size(), -1), "poll");  // a dead client: end-of-file
        for (pollfd& c : conns) {
            if (c.fd == -1 || c.revents == 0) continue;
            const std::string request = recv_msg(c.fd);
            if (request.empty()) { c.fd = -1, --open; continue; }  // poll() skips -1
            std::istringstream in(request);
            std::string op, key;
            long v = 0;
            in >> op >> key >> v;
            if (op == "set") dict[key] = v;
            if (op == "add") dict[key] += v;
            send_msg(c.fd, std::to_string(dict[key]));  // the value after the operation
        }
    }
    return dict;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: manager_dict\n"); return 2; }
    try {
        std::deque<SocketPair> conns;  // a deque never moves its elements
        std::deque<Child> workers;
        std::vector<pollfd> fds;
        for (int id = 0; id < clients; ++id) {
            SocketPair& sp = conns.emplace_back();
            std::fflush(stdout);
            Child& w = workers.emplace_back(check(::fork(), "fork"));
            if (w.pid == 0) {  // the child ends here, whatever happens: never in main's code
                int code = 1;
                try { client(sp.fd[1]); code = 0; } catch (const std::exception& e) {
                    std::fprintf(stderr, "manager_dict (client): %s\n", e.what());
                }
                _exit(code);
            }
            sp.close(1);  // now only the client holds its end: its exit is end-of-file here
            fds.push_back({sp.fd[0], POLLIN, 0});
        }
        std::map<std::string, long> dict = serve(fds);  // we are the manager
        bool ok = true;
        for (Child& w : workers) {  // every client has closed its end: they are ending
            int status = 0;
            check(::waitpid(w.pid, &status, 0), "waitpid");
            w.pid = -1;
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        const long expected = clients * rounds, hits = dict["hits"], racy = dict["racy"];
        std::printf("d.add('hits', 1), one call each : hits = %ld (expected %ld)\n", hits, expected);
        std::printf("d.set(k, d.get(k) + 1), two calls: racy = %ld of %ld, %ld lost\n", racy,
                    expected, expected - racy);
        ok = ok && hits == expected;
        std::printf("%s\n", ok ? "every single call was atomic" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "manager_dict: %s\n", e.what());
        return 1;
    }
}
