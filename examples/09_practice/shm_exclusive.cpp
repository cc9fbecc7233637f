// shm_exclusive.cpp - the fix for a squatted name: create with O_CREAT | O_EXCL,
// which fails with EEXIST if the name exists, so we never use someone else's
// object; pick an unguessable name (random bytes from getrandom) and try again;
// and ask for mode 0600 (owner only), checking what umask left.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <string>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a shared-memory object we created: descriptor and name.
struct Shm {
    Shm(std::string n, int f) : name(std::move(n)), fd(f) {}
    Shm(const Shm&) = delete;
    ~Shm() { ::close(fd); ::shm_unlink(name.c_str()); }
    std::string name;
    int fd;
};

// "/report-" and 16 random hex digits: 2^64 names, none guessable.
std::string random_name() {
    unsigned char bytes[8];
    if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes)
        throw std::system_error(errno, std::generic_category(), "getrandom");
    std::string name = "/report-";
    char hex[3];
    for (unsigned char b : bytes) { std::snprintf(hex, sizeof hex, "%02x", b); name += hex; }
    return name;
}

// Creates a new object, never opens an existing one (O_EXCL).
int create_exclusive(const std::string& name) {
#ifndef BREAK_NO_EXCL  // "Break it" on the page: build with -DBREAK_NO_EXCL
    return ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
#else
    return ::shm_open(name.c_str(), O_CREAT | O_RDWR, 0600);
#endif
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        // A squatter holds the predictable name.
        Shm squatter("/report", check(create_exclusive("/report"), "shm_open"));

        // O_EXCL: the predictable name fails loudly instead of leaking.
        const int again = create_exclusive("/report");
        if (again == -1 && errno != EEXIST) check(again, "shm_open");  // another failure
        const bool refused = again == -1;
        std::cout << "shm_open(\"/report\", O_CREAT | O_EXCL): "
                  << (refused ? "EEXIST, someone else's: not used ✓" : "✗ opened") << '\n';

        ::umask(022);  // a common default: takes write from group and others
        std::string name = random_name();
        int fd;
        while ((fd = create_exclusive(name)) == -1 && errno == EEXIST) name = random_name();
        Shm ours(name, check(fd, "shm_open"));
        struct stat st{};
        check(::fstat(ours.fd, &st), "fstat");
        const unsigned mode = st.st_mode & 0777;
        std::cout << "created /dev/shm/report-<16 random hex digits> with mode 0"
                  << std::oct << mode << std::dec
                  << (mode == 0600 ? ": owner only ✓" : " ✗") << '\n';
        return refused && mode == 0600 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "shm_exclusive: " << e.what() << '\n';
        return 1;
    }
}
