// Helpers shared by the Catch2 tests: run a function in N child processes and
// collect their exit codes; an anonymous MAP_SHARED region that children inherit.
#pragma once
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <functional>
#include <new>
#include <vector>

namespace test {

// Fork n children running body(i); each child exits with body's return value.
// Returns the exit codes (or 128 + signal) in order of i.
inline std::vector<int> run_children(int n, const std::function<int(int)>& body) {
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) {
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) _exit(body(i));
        pids.push_back(pid);
    }
    std::vector<int> codes;
    for (pid_t pid : pids) {
        int status = 0;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    return codes;
}

// One T in anonymous shared memory: visible to children forked after it is made.
template <class T>
class Shared {
public:
    Shared() {
        void* p = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        REQUIRE(p != MAP_FAILED);
        value_ = new (p) T{};
    }
    ~Shared() {
        value_->~T();
        munmap(value_, sizeof(T));
    }
    Shared(const Shared&) = delete;
    Shared& operator=(const Shared&) = delete;
    T* operator->() { return value_; }
    T& operator*() { return *value_; }

private:
    T* value_;
};

}  // namespace test
