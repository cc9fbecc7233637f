// process_communicator.cpp — named queues, pipes and shared state behind one
// small interface (the tutorial's ProcessCommunicator).
//
//   queues        POSIX message queues, named "/ch05-<pid>-<name>"
//   pipes         socketpairs (duplex, message boundaries kept), looked up by name
//   shared state  a small key -> integer table in shared memory, guarded by a
//                 process-shared mutex (Python: Manager().dict(), minus the server)
// Every channel is created before the processes start, so each child inherits it.
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

// A failed call throws (not std::exit: in a forked child that would run the
// parent's exit handlers); main, or the child's body, catches it.
int check(int rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

void check_pthread(int rc, const char* what) {
    if (rc != 0) throw std::system_error(rc, std::generic_category(), what);
}

/// A fixed-size table in MAP_SHARED memory. Fixed size and plain chars,
/// because pointers (and std::string) mean nothing in another process.
struct SharedTable {
    pthread_mutex_t mutex;
    int used;
    struct Entry { char key[32]; long value; } entries[32];
};

class Communicator {
public:
    Communicator() : owner_(::getpid()) {
        void* p = ::mmap(nullptr, sizeof(SharedTable), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) check(-1, "mmap");
        table_ = static_cast<SharedTable*>(p);
        pthread_mutexattr_t attr;
        check_pthread(pthread_mutexattr_init(&attr), "pthread_mutexattr_init");
        check_pthread(pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED), "setpshared");
        check_pthread(pthread_mutex_init(&table_->mutex, &attr), "pthread_mutex_init");
        pthread_mutexattr_destroy(&attr);
    }
    /// Kills and reaps the processes not yet waited for (we are leaving early:
    /// one may block for ever on a peer that died), then removes every channel;
    /// the queue names are unlinked by the creating process only.
    ~Communicator() {
        for (pid_t pid : children_)
            if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
        for (auto& [name, q] : queues_) {
            ::mq_close(q.mqd);
            if (::getpid() == owner_) ::mq_unlink(q.path.c_str());
        }
        for (auto& [name, ends] : pipes_) { ::close(ends.first); ::close(ends.second); }
        pthread_mutex_destroy(&table_->mutex);
        ::munmap(table_, sizeof(SharedTable));
    }
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    // ---- queues: many writers, many readers, FIFO, survive their writer
    void create_queue(const std::string& name) {
        std::string path = "/ch05-" + std::to_string(owner_) + "-" + name;
        mq_attr attr{};
        attr.mq_maxmsg = 8;      // the default limit for unprivileged users is 10
        attr.mq_msgsize = 128;
        mqd_t q = ::mq_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
        if (q == static_cast<mqd_t>(-1)) check(-1, "mq_open");
        queues_[name] = {q, path};
    }
    void send_message(const std::string& queue, const std::string& text) {
        check(::mq_send(find(queues_, queue).mqd, text.data(), text.size(), 0), "mq_send");
    }
    std::optional<std::string> receive_message(const std::string& queue, int timeout_ms) {
        timespec until{};
        ::clock_gettime(CLOCK_REALTIME, &until);   // mq_timedreceive wants an absolute time
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (timeout_ms % 1000) * 1'000'000L;
        if (until.tv_nsec >= 1'000'000'000L) { until.tv_sec += 1; until.tv_nsec -= 1'000'000'000L; }
        char buf[128];
        ssize_t n;
        while ((n = ::mq_timedreceive(find(queues_, queue).mqd, buf, sizeof buf, nullptr, &until)) == -1 &&
               errno == EINTR) {}
        if (n == -1 && errno == ETIMEDOUT) return std::nullopt;
        check(static_cast<int>(n), "mq_timedreceive");
        return std::string(buf, static_cast<size_t>(n));
    }

    const std::string& queue_path(const std::string& name) { return find(queues_, name).path; }

    // ---- pipes: one writer side, one reader side
    void create_pipe(const std::string& name) {
        int fds[2];
        check(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), "socketpair");
        pipes_[name] = {fds[0], fds[1]};
    }
    void send_data(const std::string& pipe, long value) {
        check(static_cast<int>(::send(find(pipes_, pipe).first, &value, sizeof value, MSG_NOSIGNAL)), "send");
    }
    long receive_data(const std::string& pipe) {
        long value = 0;
        ssize_t n;
        while ((n = ::recv(find(pipes_, pipe).second, &value, sizeof value, 0)) == -1 && errno == EINTR) {}
        if (n != static_cast<ssize_t>(sizeof value)) throw std::runtime_error("pipe closed");
        return value;
    }

    // ---- shared state: every operation holds the mutex
    void set(const std::string& key, long value) { locked([&] { slot(key).value = value; }); }
    long add(const std::string& key, long delta) {
        long result = 0;
        locked([&] { result = slot(key).value += delta; });
        return result;
    }
    std::optional<long> get(const std::string& key) {
        std::optional<long> out;
        locked([&] {
            for (int i = 0; i < table_->used; ++i)
                if (key == table_->entries[i].key) out = table_->entries[i].value;
        });
        return out;
    }

    // ---- processes
    void start_process(const std::function<void(Communicator&)>& body) {
        std::fflush(stdout);
        pid_t pid = check(::fork(), "fork");
        if (pid == 0) {   // the child: whatever happens in body, it ends here
            int code = 0;
            try {         // an escaping exception would unwind into the parent's main
                body(*this);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "child %d: %s\n", static_cast<int>(::getpid()), e.what());
                code = 1;
            } catch (...) {
                code = 1;
            }
            std::fflush(stdout);
            ::_exit(code);   // the parent owns (and will remove) every channel
        }
        children_.push_back(pid);
    }
    /// Returns how many children exited with code 0.
    int wait_all() {
        int clean = 0;
        for (pid_t pid : children_) {
            int status = 0;
            while (::waitpid(pid, &status, 0) == -1 && errno == EINTR) {}
            clean += WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        children_.clear();
        return clean;
    }

private:
    struct Queue { mqd_t mqd; std::string path; };
    template <class Map> static typename Map::mapped_type& find(Map& m, const std::string& name) {
        auto it = m.find(name);
        if (it == m.end()) throw std::out_of_range("no channel named '" + name + "'");
        return it->second;
    }
    template <class F> void locked(F f) {
        check_pthread(pthread_mutex_lock(&table_->mutex), "pthread_mutex_lock");
        f();
        check_pthread(pthread_mutex_unlock(&table_->mutex), "pthread_mutex_unlock");
    }
    SharedTable::Entry& slot(const std::string& key) {   // caller holds the mutex
        for (int i = 0; i < table_->used; ++i)
            if (key == table_->entries[i].key) return table_->entries[i];
        if (table_->used == 32 || key.size() >= sizeof table_->entries[0].key) std::abort();
        auto& e = table_->entries[table_->used++];
        std::snprintf(e.key, sizeof e.key, "%s", key.c_str());
        e.value = 0;
        return e;
    }

    pid_t owner_;
    SharedTable* table_;
    std::map<std::string, Queue> queues_;
    std::map<std::string, std::pair<int, int>> pipes_;
    std::vector<pid_t> children_;
};

void producer(Communicator& comm) {
    for (long i = 0; i < 5; ++i) {
        comm.set("item_" + std::to_string(i), i);   // set BEFORE sending: the reader will see it
        comm.send_message("messages", "message " + std::to_string(i));
        comm.send_data("data", i * i);
    }
    for (int i = 0; i < 1000; ++i) comm.add("hits", 1);
}

void consumer(Communicator& comm) {
    for (int i = 0; i < 5; ++i) {
        auto message = comm.receive_message("messages", 2000);
        long data = comm.receive_data("data");
        auto item = comm.get("item_" + std::to_string(i));
        std::printf("  consumer: queue '%s', pipe %ld, shared item_%d = %ld\n",
                    message.value_or("(timed out)").c_str(), data, i, item.value_or(-1));
        if (message != "message " + std::to_string(i) || data != i * i || item != i) comm.add("errors", 1);
        comm.add("consumed", 1);
    }
    for (int i = 0; i < 1000; ++i) comm.add("hits", 1);
}

}  // namespace

int main(int argc, char**) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: process_communicator (takes no arguments)\n");
        return 2;
    }
    std::string queue_path;
    bool ok = false;
    try {
        Communicator comm;
        comm.create_queue("messages");
        comm.create_pipe("data");
        comm.set("errors", 0);
        queue_path = comm.queue_path("messages");
        std::printf("channels: queue 'messages', pipe 'data', shared table; starting producer and consumer\n");
        comm.start_process(producer);
        comm.start_process(consumer);
        int clean = comm.wait_all();

        long consumed = comm.get("consumed").value_or(0), errors = comm.get("errors").value_or(-1);
        long hits = comm.get("hits").value_or(0);
        std::printf("both processes exited with code 0: %s\n", clean == 2 ? "yes" : "NO");
        std::printf("consumed %ld of 5, in order and matching: %s\n", consumed, errors == 0 ? "yes" : "NO");
        std::printf("shared counter 'hits' = %ld (expected 2000: the mutex loses no update)\n", hits);
        ok = clean == 2 && consumed == 5 && errors == 0 && hits == 2000;
    } catch (const std::exception& e) {   // the destructor has already cleaned up
        std::fprintf(stderr, "process_communicator: %s\n", e.what());
        return 1;
    }   // leaving the block, the destructor closes and unlinks everything
    mqd_t again = ::mq_open(queue_path.c_str(), O_RDONLY);
    bool unlinked = again == static_cast<mqd_t>(-1) && errno == ENOENT;
    if (again == static_cast<mqd_t>(-1) && errno != ENOENT) {   // could not even look
        std::fprintf(stderr, "process_communicator: mq_open: %s\n", std::strerror(errno));
        return 1;
    }
    if (!unlinked && again != static_cast<mqd_t>(-1)) { ::mq_close(again); ::mq_unlink(queue_path.c_str()); }
    std::printf("queue name removed after the communicator was destroyed: %s\n", unlinked ? "yes" : "NO");
    ok = ok && unlinked;
    std::printf("%s\n", ok ? "ok: one interface, three kinds of channel, all cleaned up"
                           : "FAIL: the communicator lost, garbled or leaked something");
    return ok ? 0 : 1;
}
