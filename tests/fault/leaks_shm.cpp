// Fault-test fixture, broken on purpose: when ftruncate or fork fails it calls
// std::exit, which runs no destructor, so its /dev/shm object stays behind.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main() {
  std::string name = "/fault-leaks-" + std::to_string(getpid());
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) { std::perror("shm_open"); std::exit(1); }
  if (ftruncate(fd, 4096) != 0) { std::perror("ftruncate"); std::exit(1); }
  pid_t pid = fork();
  if (pid < 0) { std::perror("fork"); std::exit(1); }
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  close(fd);
  shm_unlink(name.c_str());
  return 0;
}
