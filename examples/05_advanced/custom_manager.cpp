// custom_manager.cpp - Python's BaseManager.register: a server process holds the
// registered objects (a Counter, a Namespace); clients hold proxies whose method
// calls travel as requests, and worker processes reach the same objects.
#include <deque>
#include <map>
#include <memory>
#include <sstream>

#include "manager_wire.hpp"

namespace {

// A served object: its exposed methods by name, each taking and returning text.
using Object = std::map<std::string, std::function<std::string(const std::string&)>>;
Object make_counter() {  // Py: class Counter: def increment(self, n) / def value(self)
    auto n = std::make_shared<long>(0);
    return {{"increment", [n](const std::string& a) { return std::to_string(*n += std::stol(a)); }},
            {"value", [n](const std::string&) { return std::to_string(*n); }}};
}
Object make_namespace() {  // Py: manager.Namespace(): attributes by name, "set NAME VALUE"
    auto attrs = std::make_shared<std::map<std::string, std::string>>();
    return {{"set", [attrs](const std::string& a) {
                 (*attrs)[a.substr(0, a.find(' '))] = a.substr(a.find(' ') + 1);
                 return std::string();
             }},
            {"get", [attrs](const std::string& a) {
                 if (!attrs->contains(a)) throw std::out_of_range("AttributeError: '" + a + "'");
                 return attrs->at(a);
             }}};
}
struct Registry {  // lives in the server: one request at a time, so each call is atomic
    std::map<std::string, std::function<Object()>> types;  // Py: MyManager.register(...)
    std::vector<Object> objects;
    std::string handle(const std::string& request) {  // "create TYPE" or "call ID METHOD ARG"
        std::istringstream in(request);
        std::string verb, what, method, arg;
        std::getline(in >> verb >> what >> method >> std::ws, arg);
        if (const auto make = types.find(what); verb == "create" && make != types.end()) {
            objects.push_back(make->second());
            return std::to_string(objects.size() - 1);  // the token a proxy carries
        }
        const std::size_t id = std::stoul(what);  // std::invalid_argument if not a number
        if (verb != "call" || id >= objects.size()) throw std::invalid_argument("bad request");
        const auto m = objects[id].find(method);  // only what was exposed can be called
        if (m == objects[id].end()) throw std::invalid_argument("'" + method + "' not exposed");
        return m->second(arg);
    }
};

struct RemoteError : std::runtime_error { using std::runtime_error::runtime_error; };
struct Proxy {  // Py: BaseProxy: the object's token and a connection of its own
    Proxy(const Address& a, std::string t) : conn(connect_to(a)), token(std::move(t)) {}
    std::string request(const std::string& r) {  // one request, one reply
        send_msg(conn.fd, r);
        const std::string reply = recv_msg(conn.fd);
        if (reply.starts_with("#ERROR#")) throw RemoteError(reply.substr(7));
        return reply.substr(8);  // after "#RETURN#"
    }
    std::string call(const std::string& method, const std::string& arg = "") {
        return request("call " + token + " " + method + " " + arg);
    }
    Fd conn;
    std::string token;
};
// Py: a proxy passed to a child connects again, with the same token.
int worker(const Address& a, const std::string& counter, const std::string& ns, int w) {
    Proxy c(a, counter), n(a, ns);
    for (int i = 0; i < 100; ++i) c.call("increment", "1");  // one request: atomic in the server
    n.call("set", "worker" + std::to_string(w) + " done");
    return 0;
}

int run() {
    const Address a = abstract_address("custom_manager." + std::to_string(::getpid()));
    Fd listener = listen_on(a);
    Child server(start_server([&] {  // Py: m.start()
        Registry r{{{"Counter", make_counter}, {"Namespace", make_namespace}}, {}};
        return serve(listener.fd, admit_same_user, [&](const std::string& q) { return r.handle(q); });
    }));
    Proxy manager(a, "");  // the manager's own connection: create, shutdown
    Proxy counter(a, manager.request("create Counter")), ns(a, manager.request("create Namespace"));
    std::deque<Child> workers;  // a deque: a Child never moves
    for (int w = 0; w < 2; ++w) {
        std::cout.flush();
        workers.emplace_back(check(::fork(), "fork"));
        if (workers.back().pid == 0) {  // the worker ends here, whatever happens
            int code = 1;
            try { code = worker(a, counter.token, ns.token, w); } catch (...) {}
            _exit(code);
        }
    }
    bool ok = true;
    for (Child& w : workers) ok = reap(w) == 0 && ok;  // they end by themselves: reads time out
    const std::string total = counter.call("value");
    say("counter value = " + total + " (expected 200): 2 workers x 100 each");
    say("ns.worker0 = " + ns.call("get", "worker0") + ", ns.worker1 = " + ns.call("get", "worker1"));
    try { ns.call("get", "missing"); ok = false; }
    catch (const RemoteError& e) { say(std::string("ns.missing -> RemoteError: ") + e.what()); }
    manager.request("shutdown");  // Py: m.shutdown()
    const int code = reap(server);  // it has answered: it is ending
    say("server exit status " + std::to_string(code));
    return ok && total == "200" && code == 0 ? 0 : 1;
}

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
