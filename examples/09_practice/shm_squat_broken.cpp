// shm_squat_broken.cpp - a predictable shared-memory name is an open door. Another
// process (the squatter, here a child) creates "/report" first, world-writable.
// The victim then calls shm_open("/report", O_CREAT | O_RDWR, 0600): no error,
// because O_CREAT without O_EXCL also opens an existing object, and the 0600 is
// ignored. The victim writes its secret into the squatter's object.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <system_error>

namespace {

// A failed call throws, naming the call; main prints it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

// Owns a descriptor.
struct Fd {
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    ~Fd() { if (fd >= 0) ::close(fd); }
    int fd;
};

// Owns a shared-memory name: removed when we leave, whoever created it.
struct ShmName {
    explicit ShmName(const char* n) : name(n) {}
    ShmName(const ShmName&) = delete;
    ~ShmName() { ::shm_unlink(name); }
    const char* name;
};

constexpr char kName[] = "/report";  // predictable: anyone can guess it
constexpr char kSecret[] = "salary=120000";

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        ShmName cleanup(kName);
        // The squatter (another user's process, in real life) gets there first.
        ::umask(0);
        Fd squatter(check(::shm_open(kName, O_CREAT | O_EXCL | O_RDWR, 0666), "shm_open"));
        check(::ftruncate(squatter.fd, 64), "ftruncate");

        // The victim: O_CREAT without O_EXCL silently opens the squatter's object.
        ::umask(077);
        Fd victim(check(::shm_open(kName, O_CREAT | O_RDWR, 0600), "shm_open"));
        struct stat st{};
        check(::fstat(victim.fd, &st), "fstat");
        std::cout << "victim asked for mode 0600, got an object with mode 0"
                  << std::oct << (st.st_mode & 0777) << std::dec << " (not ours)\n";
        check(static_cast<int>(::pwrite(victim.fd, kSecret, sizeof kSecret, 0)), "pwrite");

        char seen[sizeof kSecret] = {};
        check(static_cast<int>(::pread(squatter.fd, seen, sizeof seen, 0)), "pread");
        const bool leaked = std::strcmp(seen, kSecret) == 0;
        std::cout << "the squatter reads: \"" << seen << "\""
                  << (leaked ? " ✗ the secret leaked" : "") << '\n';
        return leaked ? 0 : 1;  // this program's claim: the squat works
    } catch (const std::exception& e) {
        std::cerr << "shm_squat_broken: " << e.what() << '\n';
        return 1;
    }
}
