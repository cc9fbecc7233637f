// interprocess_map.cpp — a container that lives IN shared memory
// (Boost.Interprocess managed_shared_memory), for contrast with a manager:
// no server, no messages; processes update the map directly under a lock.
// Python has no equivalent: ShareableList holds only scalars; dicts need a Manager.
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/map.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string>
#include <utility>
#include <vector>
#include <stdexcept>
#include <system_error>
#include <sys/wait.h>
#include <unistd.h>

namespace bip = boost::interprocess;

namespace {

const char* const program = "interprocess_map";

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

// A std::map whose nodes are allocated inside the segment. Pointers inside
// it are offset_ptrs, so it works at whatever address each process maps it.
using Segment = bip::managed_shared_memory;
using Entry = std::pair<const int, long>;
using ShmAllocator = bip::allocator<Entry, Segment::segment_manager>;
using ShmMap = bip::map<int, long, std::less<int>, ShmAllocator>;

/// Removes the segment's name on construction (a stale one from a crash)
/// and on destruction, so /dev/shm is clean however we leave.
struct SegmentName {
    std::string name;
    explicit SegmentName(std::string n) : name(std::move(n)) { bip::shared_memory_object::remove(name.c_str()); }
    ~SegmentName() { bip::shared_memory_object::remove(name.c_str()); }
};

constexpr int workers = 3;
constexpr int words_each = 20'000;

// Each worker opens the segment by name and counts word lengths 1..8 into the
// shared map. One lock guards the map: a red-black tree cannot be updated by two
// processes at once.
int count_words(const char* segment_name, int id) try {
    Segment seg(bip::open_only, segment_name);
    auto* map = seg.find<ShmMap>("lengths").first;
    auto* mutex = seg.find<bip::interprocess_mutex>("lock").first;
    if (!map || !mutex) return 1;
    for (int i = 0; i < words_each; ++i) {
        int length = 1 + (i + id) % 8;   // a stand-in for a real word's length
        bip::scoped_lock<bip::interprocess_mutex> guard(*mutex);
        (*map)[length] += 1;             // allocates nodes in the segment
    }
    return 0;
} catch (const std::exception& e) {      // Boost.Interprocess reports errors by throwing
    std::fprintf(stderr, "worker %d: %s\n", id, e.what());
    return 1;
}

// Boost.Interprocess throws an exception that does not say which call failed;
// all we can honestly say is that it was one of the three that make a segment.
Segment create_segment(const char* name, std::size_t size) try {
    return Segment(bip::create_only, name, size);
} catch (const bip::interprocess_exception& e) {
    throw std::runtime_error(std::string("creating the segment (shm_open, ftruncate, mmap): ") +
                             e.what());
}

int run() {
    SegmentName name("interprocess_map-" + std::to_string(::getpid()));
    Segment seg = create_segment(name.name.c_str(), 64 * 1024);
    auto* map = seg.construct<ShmMap>("lengths")(seg.get_segment_manager());
    seg.construct<bip::interprocess_mutex>("lock")();

    auto t0 = std::chrono::steady_clock::now();
    std::vector<Child> children;
    for (int id = 0; id < workers; ++id)
        children.emplace_back([&name, id] { return count_words(name.name.c_str(), id); });
    bool ok = true;
    for (auto& c : children) ok = (c.wait() == 0) && ok;
    std::chrono::duration<double, std::nano> dt = std::chrono::steady_clock::now() - t0;

    long total = 0;
    for (const auto& [length, count] : *map) total += count;
    std::printf("map in shared memory: %zu keys, %ld updates (expected %d)\n", map->size(),
                total, workers * words_each);
    std::printf("every process updated the same tree; the parent reads it without copying\n");
    std::printf("%.0f ns per locked update, including process start-up\n",
                dt.count() / (workers * words_each));
    ok = ok && map->size() == 8 && total == workers * words_each;
    std::printf("%s\n", ok ? "no lost updates; the segment is removed on exit" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) { std::fprintf(stderr, "usage: interprocess_map\n"); return 2; }
    try {
        return run();                    // catching lets destructors remove the segment
    } catch (const std::exception& e) {
        std::fprintf(stderr, "interprocess_map: %s\n", e.what());
        return 1;
    }
}
