// Fault-test fixture: fails honestly. Whichever of its shm_open, ftruncate, mmap,
// pipe or fork calls fails, it names the call, exits 1 and leaves nothing behind.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

[[noreturn]] void fail(const char* call) {
  throw std::system_error(errno, std::generic_category(), call);
}

struct SharedMemory {   // the name is unlinked however main ends
  std::string name = "/fault-honest-" + std::to_string(getpid());
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  SharedMemory() { if (fd < 0) fail("shm_open"); }
  ~SharedMemory() { close(fd); shm_unlink(name.c_str()); }
};

int main() try {
  SharedMemory shm;
  if (ftruncate(shm.fd, 4096) != 0) fail("ftruncate");
  void* p = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, shm.fd, 0);
  if (p == MAP_FAILED) fail("mmap");
  munmap(p, 4096);
  for (int i = 0; i < 2; ++i) {   // two children: a fault at the 2nd call too
    int fds[2];
    if (pipe(fds) != 0) fail("pipe");
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); fail("fork"); }
    if (pid == 0) { _exit(write(fds[1], "x", 1) == 1 ? 0 : 1); }
    close(fds[1]);
    char c;
    ssize_t got = read(fds[0], &c, 1);
    close(fds[0]);
    waitpid(pid, nullptr, 0);
    std::printf("child %d said %s\n", i, got == 1 ? "x" : "nothing");
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
