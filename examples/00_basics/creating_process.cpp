// creating_process.cpp - a small RAII Process class modelled on Python's
// multiprocessing.Process: a target (function or lambda) or a subclass that
// overrides run(); start(), join() and exitcode().
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: class
// A child process that runs a callable (Py: Process(target=f, name=...)).
class Process {
public:
    explicit Process(std::function<int()> target = {}, std::string name = "Process")
        : target_(std::move(target)), name_(std::move(name)) {}
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    virtual ~Process() {  // still running? kill and reap it (a killed parent runs no destructor)
        if (pid_ > 0 && !exitcode_ && ::kill(pid_, SIGKILL) == 0)
            ::waitpid(pid_, nullptr, 0);
    }

    void start() {
        if (pid_ != -1) throw std::logic_error(name_ + ": start() called twice");
#ifndef BREAK_NO_FLUSH  // "Break it" on the page: build with -DBREAK_NO_FLUSH
        std::cout.flush();  // the child gets a copy of our buffer: empty it first
#endif
        pid_ = check(::fork(), "fork");
        if (pid_ == 0) run_in_child();  // never returns
    }

    void join() {  // Py: join(); blocks until the child has ended, then reaps it
        if (pid_ <= 0 || exitcode_) throw std::logic_error(name_ + ": nothing to join");
        int status = 0;
        check(::waitpid(pid_, &status, 0), "waitpid");
        exitcode_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }

    std::optional<int> exitcode() const { return exitcode_; }  // empty until joined
    const std::string& name() const { return name_; }

protected:
    virtual int run() { return target_ ? target_() : 0; }  // Py: override run()
// ANCHOR_END: class

// ANCHOR: child_side
private:
    // The child's whole life: run(), then _exit with its result. An exception
    // becomes exit status 1, as a traceback does in Python; it must never
    // unwind into the parent's code, of which the child has a copy.
    [[noreturn]] void run_in_child() noexcept {
        int code = 1;
        try {
            code = run();
        } catch (const std::exception& e) {
            std::cerr << name_ << ": uncaught exception: " << e.what() << '\n';
        } catch (...) {
            std::cerr << name_ << ": uncaught exception\n";
        }
        std::cout.flush();
        _exit(code);  // not exit(): the parent's atexit handlers must not run twice
    }
// ANCHOR_END: child_side

    std::function<int()> target_;
    std::string name_;
    pid_t pid_ = -1;
    std::optional<int> exitcode_;
};

// ANCHOR: uses
int greet() {  // Py: Process(target=greet)
    std::cout << "greet: running in pid " << getpid() << ", parent " << getppid() << '\n';
    return 0;
}

class Countdown : public Process {  // Py: class Countdown(Process): def run(self)
public:
    explicit Countdown(int from) : Process({}, "countdown"), from_(from) {}

protected:
    int run() override {
        for (int i = from_; i > 0; --i) std::cout << i << ' ';
        std::cout << "lift-off\n";
        return 0;
    }

private:
    int from_;
};

// Start, join, and check that the child ended with the exit code we expect.
bool run_and_check(Process& p, int expected) {
    p.start();
    p.join();
    const int code = p.exitcode().value_or(-999);
    std::cout << p.name() << ": exitcode " << code
              << (code == expected ? " ✓" : " ✗ expected " + std::to_string(expected))
              << '\n';
    return code == expected;
}
// ANCHOR_END: uses

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // ANCHOR: main
        Process function(greet, "function");
        const std::string word = "hello";
        Process lambda([word] {  // the captures are the arguments (Py: args=...)
            std::cout << word << ' ' << word << '\n';
            return 3;            // a small number: the child's exit code
        }, "lambda");
        Countdown subclass(3);
        Process thrower([]() -> int { throw std::runtime_error("bad input"); },
                        "thrower");

        bool ok = run_and_check(function, 0);
        ok = run_and_check(lambda, 3) && ok;
        ok = run_and_check(subclass, 0) && ok;
        ok = run_and_check(thrower, 1) && ok;  // the exception stayed in the child
        return ok ? 0 : 1;
        // ANCHOR_END: main
    } catch (const std::exception& e) {
        std::cerr << "creating_process: " << e.what() << '\n';
        return 1;
    }
}
