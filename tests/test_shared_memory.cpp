// Shared memory (chapter 2), checked on real processes: what one process writes
// another reads; named objects are created, attached and unlinked by name and
// leave nothing in /dev/shm; MAP_SHARED is shared across fork, MAP_PRIVATE is not.
#include "process_helpers.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace {

std::string unique_name(const char* what) {
    return "/test_shm_" + std::string(what) + "_" + std::to_string(getpid());
}

bool in_dev_shm(const std::string& name) {
    return std::filesystem::exists("/dev/shm" + name);
}

// Attach to a named object of `size` bytes (creating it if asked).
char* attach(const std::string& name, size_t size, bool create) {
    int fd = shm_open(name.c_str(), O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0) return nullptr;
    if (create && ftruncate(fd, static_cast<off_t>(size)) != 0) return close(fd), nullptr;
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);   // the mapping keeps the object alive; the descriptor is not needed
    return p == MAP_FAILED ? nullptr : static_cast<char*>(p);
}

}  // namespace

TEST_CASE("data written by one process is read by another through a named object") {
    const std::string name = unique_name("rw");
    constexpr size_t size = 4096;
    char* mine = attach(name, size, /*create=*/true);
    REQUIRE(mine != nullptr);
    auto codes = test::run_children(1, [&](int) {
        char* theirs = attach(name, size, /*create=*/false);   // attach by name only
        if (!theirs) return 1;
        std::strcpy(theirs, "written by the child");
        return munmap(theirs, size) == 0 ? 0 : 2;
    });
    CHECK(codes == std::vector<int>{0});
    CHECK(std::string(mine) == "written by the child");
    munmap(mine, size);
    REQUIRE(shm_unlink(name.c_str()) == 0);
    CHECK_FALSE(in_dev_shm(name));
}

TEST_CASE("create, attach and unlink by name") {
    const std::string name = unique_name("life");
    char* first = attach(name, 64, /*create=*/true);
    REQUIRE(first != nullptr);
    CHECK(in_dev_shm(name));
    // O_EXCL: a second creator learns the name is taken.
    int taken = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    int taken_errno = errno;
    CHECK(taken == -1);
    CHECK(taken_errno == EEXIST);
    REQUIRE(shm_unlink(name.c_str()) == 0);
    CHECK_FALSE(in_dev_shm(name));
    // The name is gone, but the existing mapping still works until unmapped.
    first[0] = 'x';
    CHECK(first[0] == 'x');
    int gone = shm_open(name.c_str(), O_RDWR, 0600);
    int gone_errno = errno;
    CHECK(gone == -1);
    CHECK(gone_errno == ENOENT);
    munmap(first, 64);
}

TEST_CASE("MAP_SHARED is shared with forked children; MAP_PRIVATE is copied on write") {
    test::Shared<int> shared;
    *shared = 1;
    void* p = mmap(nullptr, sizeof(int), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    int* priv = static_cast<int*>(p);
    *priv = 1;
    auto codes = test::run_children(1, [&](int) {
        *shared = 42;
        *priv = 42;    // the child's own copy of the page
        return 0;
    });
    CHECK(codes == std::vector<int>{0});
    CHECK(*shared == 42);
    CHECK(*priv == 1);
    munmap(p, sizeof(int));
}
