/* LD_PRELOAD shim: make the N-th call of one IPC function fail (tests/fault/fault.py).
 *
 *   FAULT_CALL=fork FAULT_AT=2   the 2nd fork() of each process fails (EAGAIN)
 *   FAULT_FIRED=file             a line "pid call n" is appended when it fails
 *   FAULT_LOG=file               count-only: a line "pid call n" for every call
 *
 * Counts are per process: a forked child starts from zero. Only a shared mmap()
 * counts (a private one is how malloc and thread stacks get memory). The errors are
 * ones the real call can return: fork EAGAIN, pipe/pipe2/socketpair EMFILE, mmap
 * ENOMEM, shm_open/mq_open/sem_open EACCES, ftruncate EFBIG, posix_spawn(p) EAGAIN.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

enum call { FORK, PIPE, PIPE2, SOCKETPAIR, MMAP, SHM_OPEN, FTRUNCATE, POSIX_SPAWN,
            POSIX_SPAWNP, MQ_OPEN, SEM_OPEN, NCALLS };
static const char *const names[NCALLS] = {
  "fork", "pipe", "pipe2", "socketpair", "mmap", "shm_open", "ftruncate",
  "posix_spawn", "posix_spawnp", "mq_open", "sem_open"};
static const int errors[NCALLS] = {
  EAGAIN, EMFILE, EMFILE, EMFILE, ENOMEM, EACCES, EFBIG, EAGAIN, EAGAIN, EACCES, EACCES};
static unsigned counts[NCALLS];

/* The next definition of a symbol: the real function in libc (POSIX's dlsym idiom). */
#define REAL(name) \
  static __typeof__(name) *real; \
  if (!real) *(void **)&real = dlsym(RTLD_NEXT, #name)

static void append(const char *variable, const char *line) {
  const char *path = getenv(variable);
  if (!path || !*path) return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t ignored = write(fd, line, strlen(line));   /* one write: lines never mix */
  (void)ignored;
  close(fd);
}

/* Count this call; 1 when it is the one to fail (errno is then set). */
static int fails(enum call c) {
  int saved = errno;
  unsigned n = __atomic_add_fetch(&counts[c], 1, __ATOMIC_SEQ_CST);
  char line[64];
  snprintf(line, sizeof line, "%ld %s %u\n", (long)getpid(), names[c], n);
  append("FAULT_LOG", line);
  const char *call = getenv("FAULT_CALL"), *at = getenv("FAULT_AT");
  int fail = call && at && strcmp(call, names[c]) == 0 && n == strtoul(at, NULL, 10);
  if (fail) append("FAULT_FIRED", line);
  errno = fail ? errors[c] : saved;
  return fail;
}

pid_t fork(void) {
  REAL(fork);
  if (fails(FORK)) return -1;
  pid_t pid = real();
  if (pid == 0) memset(counts, 0, sizeof counts);   /* the child counts its own calls */
  return pid;
}

int pipe(int fds[2]) {
  REAL(pipe);
  return fails(PIPE) ? -1 : real(fds);
}

int pipe2(int fds[2], int flags) {
  REAL(pipe2);
  return fails(PIPE2) ? -1 : real(fds, flags);
}

int socketpair(int domain, int type, int protocol, int fds[2]) {
  REAL(socketpair);
  return fails(SOCKETPAIR) ? -1 : real(domain, type, protocol, fds);
}

void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
  REAL(mmap);
  int type = flags & 0x0f;   /* MAP_TYPE */
  if ((type == MAP_SHARED || type == MAP_SHARED_VALIDATE) && fails(MMAP)) return MAP_FAILED;
  return real(addr, length, prot, flags, fd, offset);
}

int shm_open(const char *name, int oflag, mode_t mode) {
  REAL(shm_open);
  return fails(SHM_OPEN) ? -1 : real(name, oflag, mode);
}

int ftruncate(int fd, off_t length) {
  REAL(ftruncate);
  return fails(FTRUNCATE) ? -1 : real(fd, length);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  REAL(posix_spawn);
  return fails(POSIX_SPAWN) ? errors[POSIX_SPAWN] : real(pid, path, actions, attr, argv, envp);
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  REAL(posix_spawnp);
  return fails(POSIX_SPAWNP) ? errors[POSIX_SPAWNP] : real(pid, file, actions, attr, argv, envp);
}

mqd_t mq_open(const char *name, int oflag, ...) {
  REAL(mq_open);
  mode_t mode = 0;
  struct mq_attr *attr = NULL;
  if (oflag & O_CREAT) {
    va_list ap;
    va_start(ap, oflag);
    mode = va_arg(ap, mode_t);
    attr = va_arg(ap, struct mq_attr *);
    va_end(ap);
  }
  return fails(MQ_OPEN) ? (mqd_t)-1 : real(name, oflag, mode, attr);
}

sem_t *sem_open(const char *name, int oflag, ...) {
  REAL(sem_open);
  mode_t mode = 0;
  unsigned value = 0;
  if (oflag & O_CREAT) {
    va_list ap;
    va_start(ap, oflag);
    mode = va_arg(ap, mode_t);
    value = va_arg(ap, unsigned);
    va_end(ap);
  }
  return fails(SEM_OPEN) ? SEM_FAILED : real(name, oflag, mode, value);
}
