// sandbox_seccomp.cpp - a worker that parses untrusted input runs sandboxed: no
// new privileges, resource limits, and a seccomp filter that allows only the
// system calls the parser needs (read, write, memory, exit). A worker that tries
// anything else (here: openat, as injected code would) is killed by the kernel
// with SIGSYS; one that loops for ever hits RLIMIT_CPU (SIGXCPU). The parent,
// outside the sandbox, reaps each one and carries on.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// ANCHOR: owner
// Owns a child: if we leave early, it is killed and reaped.
struct Child {
    explicit Child(pid_t p) : pid(p) {}
    Child(const Child&) = delete;
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid;
};
// ANCHOR_END: owner

// ANCHOR: filter
#if defined(__x86_64__)
constexpr unsigned kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr unsigned kArch = AUDIT_ARCH_AARCH64;
#endif

// Allow one system call: if nr == NR, return ALLOW (else fall through).
#define ALLOW(NR) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR, 0, 1), \
                  BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

// After this, the kernel kills the process at any system call not listed.
void enter_sandbox() {
    rlimit cpu{1, 2};  // 1 s of CPU time: SIGXCPU (at 2 s: SIGKILL)
    check(::setrlimit(RLIMIT_CPU, &cpu), "setrlimit");
    rlimit no_files{0, 0};  // no new descriptors (and fork is refused below)
    check(::setrlimit(RLIMIT_NOFILE, &no_files), "setrlimit");
    // Required to install a filter without root; and no exec can gain privileges.
    check(::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)");
    sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),  // another ABI: kill
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        ALLOW(SYS_read), ALLOW(SYS_write), ALLOW(SYS_brk), ALLOW(SYS_mmap),
        ALLOW(SYS_munmap), ALLOW(SYS_mremap), ALLOW(SYS_madvise),
        ALLOW(SYS_rt_sigreturn), ALLOW(SYS_sigaltstack),  // (sanitizers call it at exit)
        ALLOW(SYS_exit), ALLOW(SYS_exit_group),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(code)), code};
    check(::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0), "prctl(PR_SET_SECCOMP)");
}
// ANCHOR_END: filter

// ANCHOR: parser
// The untrusted part: "a+b" gives the sum. The two other inputs stand for bugs
// an attacker could exploit: one opens a file, one never ends.
long parse(const std::string& input) {
    if (input == "open /etc/shadow") return ::open("/etc/shadow", O_RDONLY);
    if (input == "loop") for (volatile long spins = 0;;) spins = spins + 1;
    long a = 0, b = 0;
    if (std::sscanf(input.c_str(), "%ld+%ld", &a, &b) != 2) return -1;
    return a + b;
}
// ANCHOR_END: parser

// ANCHOR: run
// Runs parse(input) in a sandboxed child; returns how the child ended.
void run_sandboxed(const std::string& input) {
    std::cout.flush();  // else the child inherits our buffer and prints it again
    Child child(check(::fork(), "fork"));
    if (child.pid == 0) {  // the child ends here, whatever happens
        int code = 1;
        try {
            enter_sandbox();
            const std::string out = "  worker: " + input + " = " + std::to_string(parse(input)) + '\n';
            code = ::write(1, out.data(), out.size()) == static_cast<ssize_t>(out.size()) ? 0 : 1;
        } catch (const std::exception& e) {
            std::cerr << "sandbox_seccomp: " << e.what() << '\n';
        }
        _exit(code);
    }
    int status = 0;
    check(::waitpid(child.pid, &status, 0), "waitpid");  // bounded: RLIMIT_CPU
    child.pid = -1;
    std::cout << "input \"" << input << "\": worker ";
    if (WIFEXITED(status)) std::cout << "exited with " << WEXITSTATUS(status) << '\n';
    else std::cout << "killed by " << sigabbrev_np(WTERMSIG(status)) << " ("
                   << strsignal(WTERMSIG(status)) << ")\n";
}
// ANCHOR_END: run

}  // namespace

// ANCHOR: main
int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        for (const char* input : {"2+3", "open /etc/shadow", "loop"}) run_sandboxed(input);
        std::cout << "parent: unharmed, still running (pid " << ::getpid() << ")\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "sandbox_seccomp: " << e.what() << '\n';
        return 1;
    }
}
// ANCHOR_END: main
