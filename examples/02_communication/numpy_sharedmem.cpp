// numpy_sharedmem.cpp — a large array of doubles in shared memory, processed
// in place by N child processes, each on its own slice: nothing is copied.
// Python: a = np.ndarray(shape, dtype=np.float64, buffer=shm.buf) in every
// process, each worker given only the shm name and a slice range.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <exception>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

const char* const program = "numpy_sharedmem";

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

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

/// Unlinks the name when the creator is done (Python: shm.unlink()).
struct ShmName {
    std::string name;
    ~ShmName() { ::shm_unlink(name.c_str()); }
};

/// A shared-memory object mapped as an array of doubles: the C++ cousin of
/// np.ndarray(buffer=shm.buf). The span must not outlive the mapping.
class SharedDoubles {
public:
    SharedDoubles(const std::string& name, size_t count, bool create) : bytes_(count * sizeof(double)) {
        int fd = check(::shm_open(name.c_str(), create ? O_CREAT | O_EXCL | O_RDWR : O_RDWR, 0600),
                       "shm_open");
        if (create && ::ftruncate(fd, static_cast<off_t>(bytes_)) == -1) {
            int err = errno;             // close() may change errno
            ::close(fd);
            throw std::system_error(err, std::generic_category(), "ftruncate");
        }
        void* p = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        int err = errno;
        ::close(fd);                     // the mapping keeps the object alive
        if (p == MAP_FAILED) throw std::system_error(err, std::generic_category(), "mmap");
        data_ = std::span<double>(static_cast<double*>(p), count);
    }
    ~SharedDoubles() { ::munmap(data_.data(), bytes_); }
    SharedDoubles(const SharedDoubles&) = delete;
    std::span<double> all() const { return data_; }
private:
    size_t bytes_;
    std::span<double> data_;
};

constexpr size_t n = 2'000'000;          // 16 MB of doubles
constexpr int children_count = 4;

// The layout of the segment: n values, then one partial sum per child.
constexpr size_t slots = n + children_count;

// A child receives only the name and its range -- two integers, not 16 MB.
int process_slice(const std::string& name, int id, size_t begin, size_t end) {
    SharedDoubles shm(name, slots, false);
    std::span<double> slice = shm.all().subspan(begin, end - begin);
    double sum = 0;
    for (double& x : slice) {
        x = 2 * x + 1;                   // in place: the parent sees it directly
        sum += x;
    }
    shm.all()[n + static_cast<size_t>(id)] = sum;  // each child owns one result slot
    return 0;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: numpy_sharedmem\n"); return 2; }
    try {
        ShmName name{"/numpy_sharedmem-" + std::to_string(::getpid())};
        SharedDoubles shm(name.name, slots, true);
        std::span<double> values = shm.all().first(n);
        for (size_t i = 0; i < n; ++i) values[i] = static_cast<double>(i);
        std::printf("%zu doubles (%.0f MB) in one shared-memory object\n", n,
                    static_cast<double>(n * sizeof(double)) / 1e6);

        std::vector<Child> children;
        for (int id = 0; id < children_count; ++id) {
            size_t begin = n * static_cast<size_t>(id) / children_count;
            size_t end = n * static_cast<size_t>(id + 1) / children_count;
            std::printf("child %d: slice [%zu, %zu)\n", id, begin, end);
            children.emplace_back([&, id, begin, end] { return process_slice(name.name, id, begin, end); });
        }
        bool ok = true;
        for (auto& c : children) ok = (c.wait() == 0) && ok;

        // Check every element and the sum: sum of (2i + 1) for i < n is n^2,
        // exact in double arithmetic at this size.
        size_t wrong = 0;
        for (size_t i = 0; i < n; ++i) wrong += values[i] != 2.0 * static_cast<double>(i) + 1;
        double total = 0;
        for (int id = 0; id < children_count; ++id) total += shm.all()[n + static_cast<size_t>(id)];
        std::printf("elements transformed in place: %zu wrong of %zu\n", wrong, n);
        std::printf("sum of the children's partial sums = %.0f (expected %.0f)\n", total,
                    static_cast<double>(n) * static_cast<double>(n));
        ok = ok && wrong == 0 && total == static_cast<double>(n) * static_cast<double>(n);
        std::printf("%s\n", ok ? "zero copies: the children wrote into the parent's array" : "FAILED");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "numpy_sharedmem: %s\n", e.what());
        return 1;
    }
}
