// chunk_checksum (exercise, reference solution) - WORKERS children each add up
// the bytes of one chunk of a buffer; each writes its sum to its own slot of a
// shared mapping, and the parent adds the slots and compares with one process.
// Python: Pool.map(sum, chunks), or Processes writing to an Array('Q', 4).
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

constexpr int kWorkers = 4;

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct SharedSums {  // one slot per worker, in a mapping that fork() shares
    uint64_t* slot;
    SharedSums() {
        void* p = ::mmap(nullptr, sizeof(uint64_t) * kWorkers, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        slot = static_cast<uint64_t*>(p);
    }
    ~SharedSums() { ::munmap(slot, sizeof(uint64_t) * kWorkers); }
};

uint64_t sum_bytes(const unsigned char* begin, const unsigned char* end) {
    return std::accumulate(begin, end, uint64_t{0});
}

}  // namespace

int main(int argc, char* argv[]) {
    const long size = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
    if (argc != 2 || size < kWorkers) {
        std::cerr << "usage: " << argv[0] << " BYTES (at least " << kWorkers << ")\n";
        return 2;
    }
    try {
        std::vector<unsigned char> data(static_cast<size_t>(size));  // "the file": any bytes
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<unsigned char>(i * 7 + i / 256);
        SharedSums sums;  // the data needs no sharing: each child gets a copy-on-write copy
        std::array<Child, kWorkers> workers;
        std::array<size_t, kWorkers + 1> bound;  // chunk w is [bound[w], bound[w+1])
        for (int w = 0; w <= kWorkers; ++w) bound[w] = data.size() * w / kWorkers;
        std::cout.flush();  // the children must not inherit unprinted output
        for (int w = 0; w < kWorkers; ++w) {
            workers[w].pid = check(::fork(), "fork");
            if (workers[w].pid == 0) {  // the child ends here, whatever happens
                sums.slot[w] = sum_bytes(data.data() + bound[w], data.data() + bound[w + 1]);
                _exit(0);
            }
        }
        for (int w = 0; w < kWorkers; ++w) {  // each worker ends by itself
            int status = 0;
            check(::waitpid(workers[w].pid, &status, 0), "waitpid");
            workers[w].pid = -1;  // reaped
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                throw std::runtime_error("worker " + std::to_string(w) + " failed");
            std::cout << "worker " << w << ": bytes [" << bound[w] << ", " << bound[w + 1]
                      << "), sum " << sums.slot[w] << '\n';
        }
        const uint64_t parallel = std::accumulate(sums.slot, sums.slot + kWorkers, uint64_t{0});
        const uint64_t serial = sum_bytes(data.data(), data.data() + data.size());
        std::cout << "checksum of " << kWorkers << " chunks: " << parallel << '\n'
                  << "checksum in one process: " << serial << '\n'
                  << (parallel == serial ? "match" : "MISMATCH") << '\n';
        return parallel == serial ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "chunk_checksum: " << e.what() << '\n';
        return 1;
    }
}
