// producer_consumer.cpp - poison pills: after the last real item, one pill per
// consumer travels through the queue, behind the items. The queue is a pipe in
// packet mode (O_DIRECT), bounded. Python: put(None) once per consumer.
#include <deque>

#include "pattern.hpp"  // check, Pipe, Child, send/receive, run_main

constexpr int kProducers = 3, kConsumers = 2, kPerProducer = 1000;
constexpr long kPill = -1;  // never a real item: items are 0..2999

long get(int fd) {  // blocks while the queue is empty
    long item = 0;
    if (!receive(fd, item))
        throw std::runtime_error("end-of-file: the other side is gone");
    return item;
}

int main(int argc, char* argv[]) {
    return run_main("producer_consumer", argc, argv, [] {
        ::signal(SIGPIPE, SIG_IGN);  // a write to a queue nobody reads fails (EPIPE)
        Pipe queue(O_DIRECT), reports;  // each consumer reports on `reports` how many it took
        std::cout << kProducers << " producers x " << kPerProducer << " items, " << kConsumers
                  << " consumers, one queue\n";
        std::deque<Child> children;  // a deque never moves them
        for (int c = 0; c < kConsumers; ++c)
            children.emplace_back([&] {
                queue.close(1), reports.close(0);
                long taken = 0;
                while (get(queue.end[0]) != kPill) ++taken;  // one pill stops one consumer
                std::cout << "a consumer took a pill after " << taken << " items" << std::endl;
                send(reports.end[1], taken);
            });
        queue.close(0), reports.close(1);  // ours closed: a dead consumer means EPIPE or EOF
        for (int p = 0; p < kProducers; ++p)
            children.emplace_back([&, p] {
                for (long i = 0; i < kPerProducer; ++i) send(queue.end[1], p * kPerProducer + i);
            });
        bool ok = true;
        for (int p = kConsumers; p < kConsumers + kProducers; ++p) ok = children[p].wait() && ok;
        // Only now: every real item is in the queue, and FIFO puts the pills last.
        std::cout << "producers joined; sending " << kConsumers << " poison pills" << std::endl;
        for (int c = 0; c < kConsumers; ++c) send(queue.end[1], kPill);
        long total = 0;  // get() throws at end-of-file: a consumer died without reporting
        for (int c = 0; c < kConsumers; ++c) total += get(reports.end[0]);
        for (int c = 0; c < kConsumers; ++c) ok = children[c].wait() && ok;
        std::cout << "items consumed: " << total << " (expected " << kProducers * kPerProducer
                  << "); every child exited with 0: " << (ok ? "yes" : "no") << '\n';
        return ok && total == kProducers * kPerProducer ? 0 : 1;
    });
}
