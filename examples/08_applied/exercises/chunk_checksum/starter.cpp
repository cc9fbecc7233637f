// chunk_checksum (exercise, starter) - WORKERS children each add up the bytes of
// one chunk of a buffer; each writes its sum to its own slot of a shared mapping,
// and the parent adds the slots and compares with one process. Fill in the TODOs.
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
[[maybe_unused]] int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

struct Child {  // if we leave early, the child is killed and reaped
    ~Child() { if (pid > 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0); }
    pid_t pid = -1;
};

struct SharedSums {  // one slot per worker: the children write, the parent reads
    uint64_t* slot = nullptr;
    SharedSums() {
        // TODO: mmap() room for kWorkers uint64_t that survives fork() as the SAME
        // memory in every process (which flags?). If it fails, throw a
        // std::system_error naming "mmap".
    }
    ~SharedSums() {
        // TODO: munmap() what the constructor mapped.
    }
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
        SharedSums sums;
        std::array<Child, kWorkers> workers;
        // TODO: flush std::cout, then fork kWorkers children. Worker w adds up chunk
        // [w*size/kWorkers, (w+1)*size/kWorkers), stores the sum in sums.slot[w] and
        // ends with _exit(0). Then reap each worker in turn, check that it exited
        // with status 0, and print
        //     worker W: bytes [BEGIN, END), sum S
        const uint64_t parallel = 0;  // TODO: add up the slots
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
