// mpi_mapreduce.cpp — word count as MapReduce on MPI (Open MPI).
//
// Every rank runs this same program (SPMD). Map: each rank counts the words of
// its share of the documents. Shuffle: every word is sent to the rank that owns
// it (hash(word) % size) with one MPI_Alltoallv. Reduce: each rank adds up the
// counts for its own words. Gather: rank 0 collects everything and checks it
// against a serial count. The same binary runs on one machine or on a cluster:
// only mpirun's host list changes (Py: Ray tasks + ray.get, or Dask bags).
// We use MPI's C API. Open MPI 4.1's mpi.h would also pull in the deprecated
// C++ bindings, whose header warns under -Wextra; these macros skip them.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kDocuments = 2000, kWordsPerDocument = 50;
const std::vector<std::string> kVocabulary = {
    "process", "thread", "pipe", "queue", "lock", "fork", "signal", "socket",
    "memory", "mutex", "barrier", "event", "pool", "future", "channel", "epoll"};

using Counts = std::map<std::string, long>;

// MPI's default error handler aborts the whole job on any failure, so a
// non-success code only comes back if someone changed the handler. Check anyway.
void mpi(int rc, const char* what) {
    if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI call failed: ") + what);
}

/// MPI_Init in the constructor, MPI_Finalize in the destructor.
struct MpiSession {
    MpiSession(int& argc, char**& argv) { mpi(MPI_Init(&argc, &argv), "MPI_Init"); }
    ~MpiSession() { MPI_Finalize(); }
    MpiSession(const MpiSession&) = delete;
    MpiSession& operator=(const MpiSession&) = delete;
};

// Document d, generated the same way on every machine: minstd_rand's sequence
// is fixed by the C++ standard (std::uniform_int_distribution's is not).
std::vector<std::string> document(int d) {
    std::minstd_rand gen(static_cast<std::uint_fast32_t>(d + 1));
    std::vector<std::string> words;
    for (int i = 0; i < kWordsPerDocument; ++i) {
        auto a = gen() % kVocabulary.size(), b = gen() % kVocabulary.size();
        words.push_back(kVocabulary[std::min(a, b)]);   // min of two: early words are common
    }
    return words;
}

// Which rank reduces a word. std::hash may differ between builds and machines;
// FNV-1a is the same everywhere, which a cluster of mixed machines needs.
int owner(const std::string& word, int size) {
    std::uint32_t h = 2166136261u;
    for (unsigned char c : word) h = (h ^ c) * 16777619u;
    return static_cast<int>(h % static_cast<std::uint32_t>(size));
}

Counts map_phase(int rank, int size, long& docs_mapped) {
    Counts counts;
    for (int d = rank; d < kDocuments; d += size, ++docs_mapped)   // documents rank, rank+size, ...
        for (const auto& w : document(d)) ++counts[w];
    return counts;
}

std::string serialize(const Counts& counts) {
    std::string text;
    for (const auto& [word, n] : counts) text += word + ' ' + std::to_string(n) + '\n';
    return text;
}

void add_serialized(Counts& into, const char* data, int length) {
    std::istringstream in(std::string(data, static_cast<std::size_t>(length)));
    std::string word;
    long n;
    while (in >> word >> n) into[word] += n;
}

// Shuffle: the bytes for rank r go in slot r. Two collectives: first everyone
// learns how much it will receive (Alltoall), then the data moves (Alltoallv).
Counts shuffle_and_reduce(const Counts& mapped, int size) {
    std::vector<Counts> outgoing(static_cast<std::size_t>(size));
    for (const auto& [word, n] : mapped) outgoing[static_cast<std::size_t>(owner(word, size))][word] = n;

    std::string send;
    std::vector<int> send_counts(static_cast<std::size_t>(size)), send_offsets(static_cast<std::size_t>(size));
    for (std::size_t r = 0; r < outgoing.size(); ++r) {
        std::string part = serialize(outgoing[r]);
        send_offsets[r] = static_cast<int>(send.size());
        send_counts[r] = static_cast<int>(part.size());
        send += part;
    }
    std::vector<int> recv_counts(static_cast<std::size_t>(size)), recv_offsets(static_cast<std::size_t>(size));
    mpi(MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv_counts.data(), 1, MPI_INT, MPI_COMM_WORLD),
        "MPI_Alltoall");
    int total = 0;
    for (std::size_t r = 0; r < recv_counts.size(); ++r) { recv_offsets[r] = total; total += recv_counts[r]; }
    std::vector<char> recv(static_cast<std::size_t>(std::max(total, 1)));
    mpi(MPI_Alltoallv(send.data(), send_counts.data(), send_offsets.data(), MPI_CHAR, recv.data(),
                      recv_counts.data(), recv_offsets.data(), MPI_CHAR, MPI_COMM_WORLD),
        "MPI_Alltoallv");

    Counts reduced;
    add_serialized(reduced, recv.data(), total);
    return reduced;
}

// The machine this rank runs on: where mpirun placed it (one line per rank below).
std::string host_name() {
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    mpi(MPI_Get_processor_name(name, &length), "MPI_Get_processor_name");
    return std::string(name, static_cast<std::size_t>(length));
}

// Gather every rank's reduced counts (and two stats and its host) on rank 0.
Counts gather_on_root(const Counts& reduced, int rank, int size, long docs_mapped) {
    std::string mine = serialize(reduced);
    int length = static_cast<int>(mine.size());
    std::vector<int> lengths(static_cast<std::size_t>(size)), offsets(static_cast<std::size_t>(size));
    mpi(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
    long stats[2] = {docs_mapped, static_cast<long>(reduced.size())};
    std::vector<long> all_stats(2 * static_cast<std::size_t>(size));
    mpi(MPI_Gather(stats, 2, MPI_LONG, all_stats.data(), 2, MPI_LONG, 0, MPI_COMM_WORLD), "MPI_Gather");
    std::string host = host_name();
    host.resize(MPI_MAX_PROCESSOR_NAME, '\0');   // fixed-size slots: one plain MPI_Gather
    std::vector<char> hosts(host.size() * static_cast<std::size_t>(size));
    mpi(MPI_Gather(host.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, hosts.data(), MPI_MAX_PROCESSOR_NAME,
                   MPI_CHAR, 0, MPI_COMM_WORLD), "MPI_Gather");

    int total = 0;
    if (rank == 0)
        for (std::size_t r = 0; r < lengths.size(); ++r) { offsets[r] = total; total += lengths[r]; }
    std::vector<char> all(static_cast<std::size_t>(std::max(total, 1)));
    mpi(MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                    0, MPI_COMM_WORLD), "MPI_Gatherv");

    Counts result;
    if (rank == 0) {
        for (int r = 0; r < size; ++r)
            std::cout << "rank " << r << " on " << &hosts[static_cast<std::size_t>(r) * MPI_MAX_PROCESSOR_NAME]
                      << ": mapped " << all_stats[2 * static_cast<std::size_t>(r)]
                      << " documents, reduced " << all_stats[2 * static_cast<std::size_t>(r) + 1]
                      << " distinct words\n";
        add_serialized(result, all.data(), total);
    }
    return result;
}

// Rank 0's check: the distributed answer must equal a plain serial count.
bool verify(const Counts& result) {
    Counts expected;
    for (int d = 0; d < kDocuments; ++d)
        for (const auto& w : document(d)) ++expected[w];
    long total = 0;
    for (const auto& [word, n] : result) total += n;

    std::vector<std::pair<long, std::string>> top;
    for (const auto& [word, n] : result) top.push_back({n, word});
    std::sort(top.rbegin(), top.rend());
    std::cout << "top 3 words:";
    for (std::size_t i = 0; i < 3 && i < top.size(); ++i)
        std::cout << ' ' << top[i].second << '=' << top[i].first;
    std::cout << '\n';

    long want = long{kDocuments} * kWordsPerDocument;
    bool same = result == expected;
    std::cout << "total words counted = " << total << " (expected " << want << ")\n";
    std::cout << "distributed result equals the serial count: " << (same ? "yes" : "NO")
              << " (" << result.size() << " distinct words)\n";
    return same && total == want;
}

}  // namespace

int main(int argc, char** argv) {
    MpiSession session(argc, argv);
    int rank = 0, size = 1;
    mpi(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");
    mpi(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
    if (argc > 1) {
        if (rank == 0) std::cerr << "usage: mpirun -np N mpi_mapreduce\n";
        return 2;
    }
    try {
        if (rank == 0)
            std::cout << "MapReduce word count on " << size << " MPI ranks (" << kDocuments
                      << " documents, " << kDocuments * kWordsPerDocument << " words)\n";
        long docs_mapped = 0;
        Counts mapped = map_phase(rank, size, docs_mapped);
        Counts reduced = shuffle_and_reduce(mapped, size);
        Counts result = gather_on_root(reduced, rank, size, docs_mapped);

        int ok = rank == 0 ? verify(result) : 1;
        // Every rank returns the same status, so mpirun's exit status is the verdict.
        mpi(MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
        return ok ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "rank " << rank << ": " << e.what() << '\n';
        MPI_Abort(MPI_COMM_WORLD, 1);            // the other ranks would wait forever
        return 1;
    }
}
