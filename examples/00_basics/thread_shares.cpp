// thread_shares.cpp - a thread runs inside our process: the same PID, its own
// TID, and the same memory, so its writes are ours.
#include <sys/types.h>
#include <unistd.h>

#include <iostream>
#include <thread>

namespace {

int g_value = 0;  // one global: there is exactly one copy of it in the process

void show_ids(const char* who) {
    std::cout << who << ": pid=" << getpid() << " ppid=" << getppid()
              << " tid=" << gettid() << '\n';
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        const pid_t main_pid = getpid();
        show_ids("main  ");
        const bool first_thread = gettid() == main_pid;
        std::cout << "main  : tid == pid " << (first_thread ? "✓" : "✗")
                  << " (the first thread's TID is the process ID)\n";

        pid_t thread_pid = 0, thread_tid = 0;
        std::thread t([&] {
            show_ids("thread");
            thread_pid = getpid();
            thread_tid = gettid();
            g_value = 1;  // writes the one and only g_value
        });
        t.join();  // join() also makes the thread's writes visible to main

        const bool same_process = thread_pid == main_pid && thread_tid != main_pid;
        std::cout << "thread: same pid, its own tid " << (same_process ? "✓" : "✗")
                  << '\n';
        std::cout << "after the thread set g_value = 1, main sees g_value = " << g_value
                  << (g_value == 1 ? " ✓" : " ✗") << '\n';
        return (first_thread && same_process && g_value == 1) ? 0 : 1;
    } catch (const std::exception& e) {  // std::thread throws std::system_error
        std::cerr << "thread_shares: " << e.what() << '\n';
        return 1;
    }
}
