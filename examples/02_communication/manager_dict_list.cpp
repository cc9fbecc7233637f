// manager_dict_list.cpp — a "manager": one server process owns a map and a
// list; other processes use them through proxy objects that send each
// operation over a Unix socket and wait for the reply.
// Python: with Manager() as m: d = m.dict(); l = m.list(); d['k'] = 1
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "manager_dict_list";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    ~Fd() { reset(); }
    int get() const { return fd_; }
    void reset() { if (fd_ != -1) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};

class Child {
public:
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) {  // the child ends here, whatever happens: never in main's code
            int rc = 1;
            try { rc = body(); } catch (const std::exception& e) {
                std::fprintf(stderr, "%s (child): %s\n", program, e.what());
            } catch (...) {}
            std::fflush(stdout);
            ::_exit(rc);
        }
    }
    Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
    ~Child() { if (pid_ > 0) { ::kill(pid_, SIGKILL); wait(); } }
    int wait() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {}
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
private:
    pid_t pid_ = -1;
};

// An abstract Unix socket address (Linux): the name starts with '\0' and
// never appears in the file system, so there is no socket file to clean up.
struct Address {
    sockaddr_un addr{};
    socklen_t len = 0;
    explicit Address(const std::string& name) {
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path + 1, name.data(), name.size());
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    }
    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

// SOCK_SEQPACKET: reliable, connection-based, and keeps message boundaries.
void send_msg(int fd, const std::string& m) {
    check(static_cast<int>(::send(fd, m.data(), m.size(), MSG_NOSIGNAL)), "send");
}
bool recv_msg(int fd, std::string& m) {       // false when the peer is gone
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    m.assign(buf, static_cast<size_t>(n));
    return true;
}

// ----------------------------- the server ------------------------------------
/// An abstract socket has no file, so no file permissions: ANY local process can
/// connect and send "shutdown". Python's Manager demands an authkey; here the
/// kernel tells us who connected (SO_PEERCRED), and we serve only our own user.
bool same_user(int fd) {
    ucred peer{};
    socklen_t len = sizeof peer;
    check(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len), "getsockopt(SO_PEERCRED)");
    return peer.uid == ::getuid();
}

/// Owns the real containers. It handles one request at a time, so every
/// single proxy call is atomic -- but a sequence of calls is not.
class ManagerServer {
public:
    explicit ManagerServer(int listener) : listener_(listener) {}
    int serve() {
        std::vector<pollfd> fds{{listener_, POLLIN, 0}};
        while (running_) {
            check(::poll(fds.data(), fds.size(), -1), "poll");
            if (fds[0].revents & POLLIN) {
                int fd = check(::accept(listener_, nullptr, nullptr), "accept");
                if (same_user(fd)) fds.push_back({fd, POLLIN, 0});
                else ::close(fd);        // a stranger: no service, not even "shutdown"
            }
            for (size_t i = 1; i < fds.size(); ++i) {
                if (!fds[i].revents) continue;
                std::string request;
                if (recv_msg(fds[i].fd, request)) {
                    send_msg(fds[i].fd, handle(request));
                } else {                 // client closed its connection
                    ::close(fds[i].fd);
                    fds[i].fd = -1;      // poll() ignores negative descriptors
                }
            }
        }
        for (size_t i = 1; i < fds.size(); ++i) if (fds[i].fd != -1) ::close(fds[i].fd);
        return 0;
    }
private:
    std::string handle(const std::string& request) {
        std::istringstream in(request);
        std::string op, key;
        in >> op;
        if (op == "get") { in >> key; return std::to_string(dict_[key]); }
        if (op == "set") { long v; in >> key >> v; dict_[key] = v; return "ok"; }
        if (op == "add") { long v; in >> key >> v; return std::to_string(dict_[key] += v); }
        if (op == "append") { in >> std::ws; std::getline(in, key); list_.push_back(key); return "ok"; }
        if (op == "len") return std::to_string(list_.size());
        if (op == "shutdown") { running_ = false; return "ok"; }
        return "error: unknown operation";
    }
    int listener_;
    bool running_ = true;
    std::map<std::string, long> dict_;
    std::vector<std::string> list_;
};

// ----------------------------- the proxies -----------------------------------
/// One connection to the manager; every call is a request and a reply.
class Connection {
public:
    explicit Connection(const Address& a) : fd_(check(::socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket")) {
        check(::connect(fd_.get(), a.get(), a.len), "connect");
    }
    std::string call(const std::string& request) {
        send_msg(fd_.get(), request);
        std::string reply;
        if (!recv_msg(fd_.get(), reply)) throw std::runtime_error("the manager is gone");
        return reply;
    }
private:
    Fd fd_;
};

/// Python's DictProxy, reduced to what this example needs.
class DictProxy {
public:
    explicit DictProxy(Connection& c) : c_(c) {}
    long get(const std::string& k) { return std::stol(c_.call("get " + k)); }
    void set(const std::string& k, long v) { c_.call("set " + k + " " + std::to_string(v)); }
    long add(const std::string& k, long v) { return std::stol(c_.call("add " + k + " " + std::to_string(v))); }
private:
    Connection& c_;
};

class ListProxy {
public:
    explicit ListProxy(Connection& c) : c_(c) {}
    void append(const std::string& item) { c_.call("append " + item); }
    long size() { return std::stol(c_.call("len")); }
private:
    Connection& c_;
};

constexpr int clients = 3;
constexpr int rounds = 300;

int client(const Address& manager, int id) {
    Connection conn(manager);                     // each process needs its own connection
    DictProxy d(conn);
    ListProxy l(conn);
    for (int i = 0; i < rounds; ++i) {
        d.add("hits", 1);                        // one call: done inside the server
        d.set("racy", d.get("racy") + 1);        // two calls: d['racy'] += 1 in Python
    }
    l.append("client " + std::to_string(id) + " was here");
    return 0;
}

// The same counting without a manager: one atomic in shared memory.
double shared_memory_ns_per_increment(int n) {
    void* p = ::mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) check(-1, "mmap");
    auto* counter = new (p) std::atomic<long>(0);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) counter->fetch_add(1);
    std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;
    ::munmap(p, sizeof(std::atomic<long>));
    return dt.count() / n;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: manager_dict_list\n"); return 2; }
    try {
        // Listen BEFORE forking the server: clients can connect at once, no race.
        const Address manager("manager_dict_list-" + std::to_string(::getpid()));
        Fd listener(check(::socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket"));
        check(::bind(listener.get(), manager.get(), manager.len), "bind");
        check(::listen(listener.get(), 16), "listen");
        Child server([&] { return ManagerServer(listener.get()).serve(); });
        listener.reset();

        std::vector<Child> workers;
        for (int id = 0; id < clients; ++id) workers.emplace_back([&manager, id] { return client(manager, id); });
        bool ok = true;
        for (auto& w : workers) ok = (w.wait() == 0) && ok;

        Connection conn(manager);
        DictProxy d(conn);
        ListProxy l(conn);
        const long expected = clients * rounds;
        long hits = d.get("hits"), racy = d.get("racy"), items = l.size();
        std::printf("d.add('hits', 1), one call each : hits = %ld (expected %ld)\n", hits, expected);
        std::printf("d.set(k, d.get(k) + 1), two calls: racy = %ld of %ld, %ld lost\n", racy,
                    expected, expected - racy);
        std::printf("list has %ld items (expected %d)\n", items, clients);

        // Cost of convenience: every proxy call is a round trip to the server.
        constexpr int calls = 2000;
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < calls; ++i) d.add("timing", 1);
        std::chrono::duration<double, std::micro> dt = std::chrono::steady_clock::now() - t0;
        double proxy_ns = dt.count() * 1000 / calls;
        double shm_ns = shared_memory_ns_per_increment(1'000'000);
        std::printf("one proxy call: %.1f us; one atomic increment in shared memory: %.1f ns\n",
                    proxy_ns / 1000, shm_ns);
        // A figure to read, not a claim to enforce: it varies with the machine.
        std::printf("a proxy call costs %.0fx an increment in shared memory: use the manager for "
                    "convenience, not for speed\n", proxy_ns / shm_ns);

        conn.call("shutdown");
        ok = (server.wait() == 0) && ok && hits == expected && items == clients;
        std::printf("%s\n", ok ? "manager shut down cleanly" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "manager_dict_list: %s\n", e.what());
        return 1;
    }
}
