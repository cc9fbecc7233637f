// remote_exception.cpp — a child's exception, raised again in the parent.
// Like Python's AsyncResult.get(): an exception cannot cross processes, but its type
// and message can. The child writes "E<type>: <what>" (or "R<value>") to a pipe; the
// parent reads it and throws a RemoteError.
#include <cxxabi.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Fd { int fd; ~Fd() { if (fd >= 0) ::close(fd); } };   // owns one descriptor

struct RemoteError : std::runtime_error { using std::runtime_error::runtime_error; };

std::string type_name(const std::exception& e) {   // e.g. "std::invalid_argument"
    int status = 0;
    char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
    std::string out = status == 0 ? name : typeid(e).name();
    std::free(name);
    return out;
}

/// Like pool.apply(task): runs it in a child, returns its value or throws its exception.
template <class Task> std::string apply_in_child(Task task) {
    int fds[2];
    check(::pipe2(fds, O_CLOEXEC), "pipe2");
    Fd read_end{fds[0]}, write_end{fds[1]};
    std::fflush(stdout);
    pid_t pid = check(::fork(), "fork");
    if (pid == 0) {   // the child ends here, whatever happens: never in main's code
        std::string message;
        try { message = "R" + task(); }
        catch (const std::exception& e) { message = "E" + type_name(e) + ": " + e.what(); }
        catch (...) { message = "Eunknown exception"; }
        bool sent = ::write(write_end.fd, message.data(), message.size()) == ssize_t(message.size());
        _exit(sent && message[0] == 'R' ? 0 : 1);
    }
    ::close(write_end.fd);   // now a dead child means end-of-file, never a hang
    write_end.fd = -1;
    std::string message;
    char buf[4096];
    for (ssize_t n; (n = ::read(read_end.fd, buf, sizeof buf)) > 0;) message.append(buf, size_t(n));
    check(::waitpid(pid, nullptr, 0), "waitpid");   // at end-of-file: it has exited, or is about to
    if (message.empty()) throw RemoteError("the child died without a word");
    if (message[0] == 'E') throw RemoteError(message.substr(1));
    return message.substr(1);
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: remote_exception (takes no arguments)\n");
        return 2;
    }
    try {
        std::string value = apply_in_child([] { return std::string("42"); });
        std::printf("good task: returned %s\n", value.c_str());
        try {
            apply_in_child([]() -> std::string { throw std::invalid_argument("input must be positive"); });
            std::printf("FAIL: no exception came back\n");
            return 1;
        } catch (const RemoteError& e) {
            std::printf("bad task: caught RemoteError: %s\n", e.what());
            bool whole = std::string(e.what()) == "std::invalid_argument: input must be positive";
            std::printf("%s\n", whole ? "ok: type and message survived the trip through the pipe"
                                      : "FAIL: the exception arrived garbled");
            return whole && value == "42" ? 0 : 1;
        }
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "remote_exception: %s\n", e.what());
        return 1;
    }
}
