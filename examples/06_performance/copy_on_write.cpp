// copy_on_write.cpp — a child shares its parent's pages until it writes to
// them: RSS, PSS, shared and private memory from /proc/self/smaps_rollup,
// before and after the child writes every page of a 32 MiB buffer.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "memory_probe.hpp"  // check, Memory, memory_of, Child

namespace {

void print(const char* when, const Memory& m) {
    std::printf("  %-26s RSS %6ld  PSS %6ld  shared %6ld  private %6ld  (KiB)\n", when, m.rss, m.pss, m.shared,
                m.priv);
}

/// An anonymous private mapping, every page written once (so it is resident).
class Buffer {
public:
    explicit Buffer(std::size_t bytes) : size_(bytes) {
        void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
        data_ = static_cast<char*>(p);
        // Keep 4 KiB pages: with transparent huge pages the copy-on-write
        // granularity would be a kernel policy detail instead of one page.
        check(::madvise(data_, size_, MADV_NOHUGEPAGE), "madvise");
        touch(1);
    }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { ::munmap(data_, size_); }
    void touch(char value) {  // one write per page is enough to own the page
        for (std::size_t i = 0; i < size_; i += 4096) data_[i] = value;
    }

private:
    std::size_t size_;
    char* data_;
};

/// A child shares its parent's pages until it writes to them.
bool show_copy_on_write(long buffer_kib) {
    Buffer buf(static_cast<std::size_t>(buffer_kib) * 1024);
    std::printf("copy-on-write: the parent wrote a %ld KiB buffer, then forked\n", buffer_kib);
    Child child([&] {
        Memory before = memory_of("self");
        buf.touch(2);  // the child writes every page: the kernel copies each one
        Memory after = memory_of("self");
        print("child right after fork:", before);
        print("child after writing all:", after);
        long grew_priv = after.priv - before.priv, grew_pss = after.pss - before.pss;
        bool ok = grew_priv >= buffer_kib * 9 / 10 && before.shared >= buffer_kib * 9 / 10 &&
                  after.rss - before.rss < buffer_kib / 10;
        std::printf("  private +%ld KiB, PSS +%ld KiB, RSS +%ld KiB: %s\n", grew_priv, grew_pss,
                    after.rss - before.rss,
                    ok ? "pages were shared until written, then copied (RSS did not see it)"
                       : "NOT the copy-on-write picture");
        return ok ? 0 : 1;
    });
    return child.exited_ok();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    try {
        return show_copy_on_write(32 * 1024) ? 0 : 1;
    } catch (const std::exception& e) {  // the Child and Buffer owners have cleaned up
        std::fflush(stdout);
        std::fprintf(stderr, "copy_on_write: %s\n", e.what());
        return 1;
    }
}
