// custom_manager.cpp - Python's BaseManager.register: a server process holds the
// registered objects (a Counter, a Namespace); clients hold proxies whose method
// calls travel as requests, and worker processes reach the same objects.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}
struct Fd {
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&& o) noexcept { std::swap(fd, o.fd); return *this; }
    ~Fd() { close(); }
    void close() { if (fd != -1) ::close(fd); fd = -1; }
    int fd;
};
// ANCHOR: owner
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
// ANCHOR_END: owner
void say(const std::string& line) { std::cout << line << std::endl; }  // flushed: two writers

// ANCHOR: messages
// SOCK_SEQPACKET keeps message boundaries: one send() is one recv(), never half of one.
constexpr std::size_t max_message = 4096;
void send_msg(int fd, const std::string& m) {  // MSG_NOSIGNAL: EPIPE, not SIGPIPE
    check(static_cast<int>(::send(fd, m.data(), m.size(), MSG_NOSIGNAL)), "send");
}
std::string recv_msg(int fd) {
    char buf[max_message];
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_TRUNC);  // n: the real length
    if (check(static_cast<int>(n), "recv") == 0) throw std::runtime_error("peer closed");
    if (static_cast<std::size_t>(n) > sizeof buf) throw std::runtime_error("message too long");
    return std::string(buf, static_cast<std::size_t>(n));
}
// ANCHOR_END: messages
// ANCHOR: register
// A served object: its exposed methods by name, each taking and returning text.
using Object = std::map<std::string, std::function<std::string(const std::string&)>>;
Object make_counter() {  // Py: class Counter: def increment(self, n) / def value(self)
    auto n = std::make_shared<long>(0);
    return {{"increment", [n](const std::string& a) { return std::to_string(*n += std::stol(a)); }},
            {"value", [n](const std::string&) { return std::to_string(*n); }}};
}
Object make_namespace() {  // Py: manager.Namespace(): attributes by name
    auto attrs = std::make_shared<std::map<std::string, std::string>>();
    return {{"set", [attrs](const std::string& a) {  // "name value"
                 const std::size_t sp = a.find(' ');
                 (*attrs)[a.substr(0, sp)] = sp == std::string::npos ? "" : a.substr(sp + 1);
                 return std::string();
             }},
            {"get", [attrs](const std::string& a) {
                 if (!attrs->contains(a)) throw std::out_of_range("AttributeError: '" + a + "'");
                 return attrs->at(a);
             }}};
}
// ANCHOR_END: register
// ANCHOR: server
class Server {
public:
    void register_type(const std::string& type, std::function<Object()> make) {
        registry_[type] = std::move(make);  // Py: MyManager.register("Counter", Counter)
    }
    int serve(int listener);
private:
    std::string dispatch(const std::string& request) {  // "create T" or "call ID METHOD ARG"
        std::istringstream in(request);
        std::string verb, what, method, arg;
        in >> verb >> what >> method;
        std::getline(in >> std::ws, arg);
        if (const auto make = registry_.find(what); verb == "create" && make != registry_.end()) {
            objects_.push_back(make->second());
            return std::to_string(objects_.size() - 1);  // the token a proxy carries
        }
        const std::size_t id = std::stoul(what);  // std::invalid_argument if not a number
        if (verb != "call" || id >= objects_.size()) throw std::invalid_argument("bad request");
        const auto m = objects_[id].find(method);
        if (m == objects_[id].end()) throw std::invalid_argument("'" + method + "' not exposed");
        return m->second(arg);
    }
    std::map<std::string, std::function<Object()>> registry_;
    std::vector<Object> objects_;  // one request at a time: each call is atomic
};
int Server::serve(int listener) {
    std::vector<Fd> clients;
    for (;;) {
        std::vector<pollfd> p{{listener, POLLIN, 0}};
        for (const Fd& c : clients) p.push_back({c.fd, POLLIN, 0});
        check(::poll(p.data(), p.size(), -1), "poll");
        for (std::size_t i = p.size() - 1; i >= 1; --i) {  // backwards: erase keeps the rest
            if (p[i].revents == 0) continue;
            const int fd = clients[i - 1].fd;
            try {
                const std::string request = recv_msg(fd);
                if (request == "shutdown") return send_msg(fd, "#RETURN#bye"), 0;
                std::string reply;
                try { reply = "#RETURN#" + dispatch(request); }
                catch (const std::logic_error& e) { reply = std::string("#ERROR#") + e.what(); }
                send_msg(fd, reply);  // an #ERROR# reply: the proxy raises RemoteError
            } catch (const std::exception&) {  // closed, or broke the rules: only it is dropped
                clients.erase(clients.begin() + static_cast<long>(i - 1));
            }
        }
        if (p[0].revents & POLLIN)  // a new client: a proxy's own connection
            clients.emplace_back(check(::accept4(listener, nullptr, nullptr, 0), "accept4"));
    }
}
// ANCHOR_END: server
// ANCHOR: proxy
struct Address { sockaddr_un sa; socklen_t len; };
Fd connect_to(const Address& a) {
    Fd s(check(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket"));
    const timeval limit{3, 0};  // a stuck server means an error, never a hang
    check(::setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), "setsockopt");
    check(::connect(s.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "connect");
    return s;
}
struct RemoteError : std::runtime_error { using std::runtime_error::runtime_error; };
struct Proxy {  // Py: BaseProxy: the object's token and a connection of its own
    Proxy(const Address& a, std::string t) : conn(connect_to(a)), token(std::move(t)) {}
    std::string request(const std::string& r) {  // one request, one reply
        send_msg(conn.fd, r);
        const std::string reply = recv_msg(conn.fd);
        if (reply.rfind("#RETURN#", 0) != 0) throw RemoteError(reply.substr(7));  // #ERROR#
        return reply.substr(8);
    }
    std::string call(const std::string& method, const std::string& arg = "") {
        return request("call " + token + " " + method + " " + arg);
    }
    Fd conn;
    std::string token;
};
struct CounterProxy : Proxy {  // Py: what m.Counter() returns after register("Counter")
    using Proxy::Proxy;
    long increment(long n) { return std::stol(call("increment", std::to_string(n))); }
    long value() { return std::stol(call("value")); }
};
struct NamespaceProxy : Proxy {  // Py: ns.x = v and ns.x
    using Proxy::Proxy;
    void set(const std::string& name, const std::string& v) { call("set", name + " " + v); }
    std::string get(const std::string& name) { return call("get", name); }
};
// ANCHOR_END: proxy
// ANCHOR: main
// Py: a proxy passed to a child process connects again, with the same token.
int worker(const Address& a, const std::string& counter_token, const std::string& ns_token, int w) {
    CounterProxy counter(a, counter_token);
    NamespaceProxy ns(a, ns_token);
    for (int i = 0; i < 100; ++i) counter.increment(1);  // one request: atomic in the server
    ns.set("worker" + std::to_string(w), "done");
    return 0;
}
int run() {
    Address a{{AF_UNIX, {}}, 0};  // an abstract name (leading '\0'): no file to unlink
    const std::string name = "custom_manager." + std::to_string(::getpid());
    std::memcpy(a.sa.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    Fd listener(check(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket"));
    check(::bind(listener.fd, reinterpret_cast<const sockaddr*>(&a.sa), a.len), "bind");
    check(::listen(listener.fd, 8), "listen");
    std::cout.flush();
    Child server(check(::fork(), "fork"));  // Py: manager.start()
    if (server.pid == 0) {  // the server ends here, whatever happens
        int code = 1;
        try {
            check(::prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl");  // it dies with its parent
            Server s;
            s.register_type("Counter", make_counter);
            s.register_type("Namespace", make_namespace);
            code = s.serve(listener.fd);
        } catch (...) {}
        _exit(code);
    }
    listener.close();
    Proxy manager(a, "");  // the manager's own connection: create, shutdown
    CounterProxy counter(a, manager.request("create Counter"));  // Py: m.Counter()
    NamespaceProxy ns(a, manager.request("create Namespace"));   // Py: m.Namespace()
    std::deque<Child> workers;  // a deque: a Child never moves
    for (int w = 0; w < 2; ++w) {
        std::cout.flush();
        workers.emplace_back(check(::fork(), "fork"));
        if (workers.back().pid == 0) {
            int code = 1;
            try { code = worker(a, counter.token, ns.token, w); } catch (...) {}
            _exit(code);
        }
    }
    bool ok = true;
    for (Child& w : workers) {  // they end by themselves: each read has a time-out
        int status = 0;
        check(::waitpid(w.pid, &status, 0), "waitpid");
        w.pid = -1;  // reaped: the pid may soon be someone else's
        ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    const long total = counter.value();
    say("counter.value() = " + std::to_string(total) + " (expected 200): 2 workers x 100 each");
    say("ns.worker0 = " + ns.get("worker0") + ", ns.worker1 = " + ns.get("worker1"));
    try { ns.get("missing"); ok = false; }
    catch (const RemoteError& e) { say(std::string("ns.missing -> RemoteError: ") + e.what()); }
    manager.request("shutdown");  // Py: manager.shutdown()
    int status = 0;
    check(::waitpid(server.pid, &status, 0), "waitpid");  // it has answered: it is ending
    server.pid = -1;
    say("server exit status " + std::to_string(WEXITSTATUS(status)));
    return ok && total == 200 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
// ANCHOR_END: main

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << "custom_manager: " << e.what() << '\n';
        return 1;
    }
}
