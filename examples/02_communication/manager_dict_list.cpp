// manager_dict_list.cpp — a "manager": one server process owns a map and a
// list; other processes use them through proxy objects that send each
// operation over a Unix socket and wait for the reply.
// Python: with Manager() as m: d = m.dict(); l = m.list(); d['k'] = 1
// (what one proxy call costs: proxy_cost.cpp).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a descriptor: closes it once.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};

// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    template <class Body> explicit Child(Body body) {
        std::fflush(stdout);             // else the child prints our buffer again
        pid = check(::fork(), "fork");
        if (pid != 0) return;            // the child ends here, whatever happens:
        int rc = 1;
        try { rc = body(); } catch (const std::exception& e) {
            std::fprintf(stderr, "manager_dict_list (child): %s\n", e.what());
        } catch (...) {}
        std::fflush(stdout);
        ::_exit(rc);
    }
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    int wait() {                         // for a child that ends by itself
        int status = 0;
        check(::waitpid(pid, &status, 0), "waitpid");
        pid = -1;                        // reaped
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    pid_t pid;
};

// An abstract Unix socket address (Linux): the name starts with '\0' and
// never appears in the file system, so there is no socket file to clean up.
struct Address {
    sockaddr_un addr{};
    socklen_t len = 0;
    explicit Address(const std::string& name) {
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path + 1, name.data(), name.size());
        len = static_cast<socklen_t>(sizeof(sa_family_t) + 1 + name.size());
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
    if (n > 0) m.assign(buf, static_cast<size_t>(n));
    return n > 0;
}

/// An abstract socket has no file, so no file permissions: ANY local process can
/// connect and send "shutdown". Python's Manager demands an authkey; here the
/// kernel tells us who connected (SO_PEERCRED), and we serve only our own user.
bool same_user(int fd) {
    ucred peer{};
    socklen_t len = sizeof peer;
    check(::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len), "getsockopt(SO_PEERCRED)");
    return peer.uid == ::getuid();
}

/// The manager: owns the real containers and handles one request at a time,
/// so every single proxy call is atomic -- but a sequence of calls is not.
int serve(int listener) {
    std::map<std::string, long> dict;
    std::vector<std::string> list;
    bool running = true;
    auto handle = [&](const std::string& request) -> std::string {
        std::istringstream in(request);
        std::string op, key;
        long v = 0;
        in >> op;
        if (op == "get") { in >> key; return std::to_string(dict[key]); }
        if (op == "set") { in >> key >> v; dict[key] = v; return "ok"; }
        if (op == "add") { in >> key >> v; return std::to_string(dict[key] += v); }
        if (op == "append") { in >> std::ws; std::getline(in, key); list.push_back(key); return "ok"; }
        if (op == "len") return std::to_string(list.size());
        if (op == "shutdown") { running = false; return "ok"; }
        return "error: unknown operation";
    };
    std::vector<pollfd> fds{{listener, POLLIN, 0}};
    while (running) {
        check(::poll(fds.data(), fds.size(), -1), "poll");
        if (fds[0].revents & POLLIN) {
            int fd = check(::accept(listener, nullptr, nullptr), "accept");
            if (same_user(fd)) fds.push_back({fd, POLLIN, 0});
            else ::close(fd);            // a stranger: no service, not even "shutdown"
        }
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!fds[i].revents) continue;
            std::string request;
            if (recv_msg(fds[i].fd, request)) {
                send_msg(fds[i].fd, handle(request));
            } else {                     // client closed its connection
                ::close(fds[i].fd);
                fds[i].fd = -1;          // poll() ignores negative descriptors
            }
        }
    }
    return 0;                            // _exit() closes the clients' sockets
}

/// One connection to the manager; every call is a request and a reply.
struct Connection {
    explicit Connection(const Address& a)
        : sock(check(::socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket")) {
        check(::connect(sock.fd, a.get(), a.len), "connect");
    }
    std::string call(const std::string& request) {
        send_msg(sock.fd, request);
        std::string reply;
        if (!recv_msg(sock.fd, reply)) throw std::runtime_error("the manager is gone");
        return reply;
    }
    Fd sock;
};

/// Python's DictProxy, reduced to what this example needs.
struct DictProxy {
    Connection& c;
    long get(const std::string& k) { return std::stol(c.call("get " + k)); }
    void set(const std::string& k, long v) { c.call("set " + k + " " + std::to_string(v)); }
    long add(const std::string& k, long v) {
        return std::stol(c.call("add " + k + " " + std::to_string(v)));
    }
};

/// Python's ListProxy, likewise.
struct ListProxy {
    Connection& c;
    void append(const std::string& item) { c.call("append " + item); }
    long size() { return std::stol(c.call("len")); }
};

constexpr int clients = 3, rounds = 300;

int client(const Address& manager, int id) {
    Connection conn(manager);                     // each process needs its own connection
    DictProxy d{conn};
    ListProxy l{conn};
    for (int i = 0; i < rounds; ++i) {
        d.add("hits", 1);                        // one call: done inside the server
        d.set("racy", d.get("racy") + 1);        // two calls: d['racy'] += 1 in Python
    }
    l.append("client " + std::to_string(id) + " was here");
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: manager_dict_list\n"); return 2; }
    try {
        // Listen BEFORE forking the server: clients can connect at once, no race.
        const Address manager("manager_dict_list-" + std::to_string(::getpid()));
        Fd listener(check(::socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket"));
        check(::bind(listener.fd, manager.get(), manager.len), "bind");
        check(::listen(listener.fd, 16), "listen");
        Child server([&] { return serve(listener.fd); });
        listener.reset();                // only the server listens
        std::deque<Child> workers;       // a deque never moves its elements
        for (int id = 0; id < clients; ++id)
            workers.emplace_back([&manager, id] { return client(manager, id); });
        bool ok = true;
        for (auto& w : workers) ok = (w.wait() == 0) && ok;

        Connection conn(manager);
        DictProxy d{conn};
        ListProxy l{conn};
        const long expected = clients * rounds;
        long hits = d.get("hits"), racy = d.get("racy"), items = l.size();
        std::printf("d.add('hits', 1), one call each : hits = %ld (expected %ld)\n", hits, expected);
        std::printf("d.set(k, d.get(k) + 1), two calls: racy = %ld of %ld, %ld lost\n", racy,
                    expected, expected - racy);
        std::printf("list has %ld items (expected %d)\n", items, clients);

        conn.call("shutdown");
        ok = (server.wait() == 0) && ok && hits == expected && items == clients;
        std::printf("%s\n", ok ? "manager shut down cleanly" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "manager_dict_list: %s\n", e.what());
        return 1;
    }
}
