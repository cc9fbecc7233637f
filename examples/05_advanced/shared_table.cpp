// shared_table.cpp — shared state without a server: a key -> number table in shared memory,
// behind a process-shared mutex. Python's tutorial uses a Manager().dict(), served by another
// process through proxies. Fixed-size records of plain chars: a pointer (so a std::string)
// means nothing in another process.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "start_child.hpp"

namespace {

void check_pthread(int rc, const char* what) {   // pthread_* return the error number
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

struct Fd {   // owns one descriptor
    int fd = -1;
    ~Fd() { close(); }
    void close() { if (fd >= 0) ::close(fd); fd = -1; }
};

struct Table { pthread_mutex_t mutex; int used; struct { char key[32]; long value; } entries[32]; };

/// Owns the mapping. MAP_SHARED | MAP_ANONYMOUS: every child forked later shares it.
struct SharedTable {
    SharedTable() {
        void* p = ::mmap(nullptr, sizeof(Table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        t = static_cast<Table*>(p);
        pthread_mutexattr_t attr;
        check_pthread(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pthread(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "pthread_mutexattr_setpshared");
        check_pthread(pthread_mutex_init(&t->mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    ~SharedTable() { pthread_mutex_destroy(&t->mutex); ::munmap(t, sizeof(Table)); }
    SharedTable(const SharedTable&) = delete;

    /// Adds `delta` to `key` (a new key starts at 0), under the mutex; returns the new value.
    long add(const char* key, long delta) {
        check_pthread(pthread_mutex_lock(&t->mutex), "pthread_mutex_lock");
        int i = 0;
        while (i < t->used && std::strcmp(t->entries[i].key, key) != 0) ++i;
        if (i == t->used && i < 32) std::snprintf(t->entries[t->used++].key, 32, "%s", key);
        long value = i < 32 ? (t->entries[i].value += delta) : 0;   // a full table ignores new keys
        check_pthread(pthread_mutex_unlock(&t->mutex), "pthread_mutex_unlock");
        return value;
    }
    long get(const char* key) { return add(key, 0); }
    Table* t;
};

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: shared_table (takes no arguments)\n");
        return 2;
    }
    try {
        SharedTable table;   // before fork(): both children share it
        table.add("hits", 0);
        int fds[2];          // the tutorial's named Pipe: a socket pair, message boundaries kept
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
        Fd sv[2] = {{fds[0]}, {fds[1]}};
        Child producer(start([&] {
            sv[1].close();
            for (long i = 0; i < 5; ++i) {
                table.add(("item_" + std::to_string(i)).c_str(), 10 * i);   // set BEFORE sending: the
                check(static_cast<int>(::send(sv[0].fd, &i, sizeof i, MSG_NOSIGNAL)), "send");   // reader sees it
            }
            sv[0].close();   // end-of-file now: both children count at the same time
            for (int i = 0; i < 500000; ++i) table.add("hits", 1);
            return 0;
        }));
        Child consumer(start([&] {
            sv[0].close();   // only the producer holds the write end: its death means end-of-file
            long i = -1, got, bad = 0;
            while (::recv(sv[1].fd, &got, sizeof got, 0) == sizeof got) {
                i = got;
                bad += table.get(("item_" + std::to_string(i)).c_str()) != 10 * i;
            }
            for (int k = 0; k < 500000; ++k) table.add("hits", 1);
            std::printf("  consumer: last item %ld, items not yet set when announced: %ld\n", i, bad);
            return i == 4 && bad == 0 ? 0 : 1;
        }));
        sv[0].close();
        sv[1].close();
        bool ok = true;
        for (Child* c : {&producer, &consumer}) ok = exited_ok(*c) && ok;   // both end by themselves
        long hits = table.get("hits");
        std::printf("shared counter 'hits' = %ld (expected 1000000: the mutex loses no update)\n", hits);
        ok = ok && hits == 1000000;
        std::printf("%s\n", ok ? "ok: both processes saw one table" : "FAIL");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {   // the owners have reaped the children and unmapped the table
        std::fflush(stdout);
        std::fprintf(stderr, "shared_table: %s\n", e.what());
        return 1;
    }
}
