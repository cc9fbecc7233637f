// numa_layout.cpp — the NUMA layout as the kernel publishes it: which memory
// is near which CPUs. One nodeN directory per node in /sys/devices/system/node.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace {

std::string first_line(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

/// The NUMA layout as the kernel publishes it: one nodeN directory per node,
/// with the CPUs it owns (cpulist) and its memory (meminfo, "Node N MemTotal:").
void print_numa_layout() {
    namespace fs = std::filesystem;
    const fs::path root = "/sys/devices/system/node";
    std::vector<fs::path> nodes;
    std::error_code ec;
    for (auto& e : fs::directory_iterator(root, ec))
        if (e.path().filename().string().rfind("node", 0) == 0 && e.is_directory()) nodes.push_back(e.path());
    if (ec || nodes.empty()) {
        std::printf("no NUMA information in %s (kernel without NUMA support)\n", root.c_str());
        return;
    }
    std::sort(nodes.begin(), nodes.end());
    std::printf("NUMA nodes in %s: %zu%s\n", root.c_str(), nodes.size(),
                nodes.size() == 1 ? " (all memory is equally near every CPU)" : "");
    for (auto& n : nodes) {
        long mem_kib = 0;
        std::ifstream in(n / "meminfo");
        for (std::string word; in >> word;)
            if (word == "MemTotal:" && in >> mem_kib) break;
        std::printf("  %s: CPUs %s, memory %ld MiB\n", n.filename().c_str(), first_line(n / "cpulist").c_str(),
                    mem_kib / 1024);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1) {
        std::fprintf(stderr, "usage: %s\n", argv[0]);
        return 2;
    }
    print_numa_layout();  // reads files only: a missing directory is reported, not an error
    return 0;
}
