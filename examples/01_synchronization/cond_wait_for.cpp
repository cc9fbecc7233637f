// cond_wait_for.cpp - Python's Condition.wait_for(predicate, timeout) between
// processes. A child adds three items and notifies after each; the parent waits
// for three, then for a fourth that never comes, and gives up at its deadline.
#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include "pshared.hpp"

namespace {
struct Items {  // in a MAP_SHARED mapping, for the parent and the child
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int count = 0;  // guarded by mutex
    Items() { init_shared(mutex); init_shared(changed); }
};

int produce(Items& items) {
    for (int i = 0; i < 3; ++i) {
        ::usleep(20'000);  // slow, so that the parent really waits
        check_pt(pthread_mutex_lock(&items.mutex), "pthread_mutex_lock");
        ++items.count;  // change the state under the mutex, then notify
        pthread_cond_signal(&items.changed);
        pthread_mutex_unlock(&items.mutex);
    }
    return 0;
}
}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        SharedMapping<Items> mapping;
        Items& items = *mapping;
        std::cout.flush();  // else the child prints our buffer again
        Child child{check(::fork(), "fork")};  // after the mapping: reaped before it goes
        if (child.pid == 0) {  // the producer ends here, whatever happens
            int code = 1;
            try { code = produce(items); } catch (...) {}
            _exit(code);
        }
        check_pt(pthread_mutex_lock(&items.mutex), "pthread_mutex_lock");
        const bool three =
            wait_for(items.changed, items.mutex, [&] { return items.count == 3; }, 5000);
        const bool four =
            wait_for(items.changed, items.mutex, [&] { return items.count == 4; }, 100);
        pthread_mutex_unlock(&items.mutex);
        std::cout << "wait_for(count == 3, 5 s): " << std::boolalpha << three << '\n'
                  << "wait_for(count == 4, 100 ms): " << four << " (timed out)\n";
        int status = 0;
        check(::waitpid(child.pid, &status, 0), "waitpid");  // it ends by itself
        child.pid = -1;
        return three && !four && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "cond_wait_for: " << e.what() << '\n';
        return 1;
    }
}
