// Fault-test fixture, broken on purpose: it ignores a failed fork() and exits 0.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

int main() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);   // pid is -1 when fork failed: nobody notices
  std::puts("done");
  return 0;
}
