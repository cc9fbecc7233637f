// image_processor.cpp - a parallel image processor without an image library.
//
// It writes its own input images (binary PPM, "P6": a tiny header, then RGB bytes),
// one of them corrupt on purpose, lets a pool of worker processes halve and brighten
// each one, verifies the outputs, reports successes, failures and time, and removes
// its temporary directory.
//
// Python: Pool(processes=3).map(process_image, files) with PIL doing the pixels.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr int kWorkers = 3;
constexpr int kGoodImages = 12;
constexpr int kWidth = 240, kHeight = 160;

// A failed call throws, naming the call; main prints it.
long check(long rc, const char* what) {
    if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
    return rc;
}

class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
    ~Fd() { close(); }
    int get() const noexcept { return fd_; }
    void close() noexcept { if (fd_ >= 0) ::close(fd_); fd_ = -1; }
private:
    int fd_;
};
// ANCHOR: pipe
/// A pipe whose ends are closed by their owners; O_CLOEXEC keeps them out of exec'd programs.
struct Pipe {
    Fd read, write;
    explicit Pipe(int flags = 0) {
        int fds[2];
        check(pipe2(fds, O_CLOEXEC | flags), "pipe2");
        read = Fd(fds[0]);
        write = Fd(fds[1]);
    }
};
// ANCHOR_END: pipe

/// A directory under /tmp that is removed with everything in it, even on errors.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "image_processor.XXXXXX").string();
        if (!mkdtemp(tmpl.data())) check(-1, "mkdtemp");
        path_ = tmpl;
    }
    ~TempDir() { remove(); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    void remove() {
        std::error_code ec;
        if (!path_.empty()) fs::remove_all(path_, ec);
    }
private:
    fs::path path_;
};

struct Image {
    int width = 0, height = 0;
    std::vector<unsigned char> rgb;   // width * height * 3 bytes
};

Image read_ppm(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string magic;
    int maxval = 0;
    Image img;
    if (!(in >> magic >> img.width >> img.height >> maxval) || magic != "P6" || maxval != 255)
        throw std::runtime_error("not an 8-bit P6 image");
    in.get();   // the single whitespace byte after the header
    const std::size_t expected = static_cast<std::size_t>(img.width) * img.height * 3;
    img.rgb.resize(expected);
    in.read(reinterpret_cast<char*>(img.rgb.data()), static_cast<std::streamsize>(expected));
    if (static_cast<std::size_t>(in.gcount()) != expected)
        throw std::runtime_error("truncated pixel data (" + std::to_string(in.gcount()) + " of " +
                                 std::to_string(expected) + " bytes)");
    return img;
}

void write_ppm(const fs::path& file, const Image& img) {
    std::ofstream out(file, std::ios::binary);
    out << "P6\n" << img.width << ' ' << img.height << "\n255\n";
    out.write(reinterpret_cast<const char*>(img.rgb.data()),
              static_cast<std::streamsize>(img.rgb.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

/// Half size: each output pixel is the average of a 2x2 block.
Image halve(const Image& in) {
    Image out{in.width / 2, in.height / 2, {}};
    out.rgb.resize(static_cast<std::size_t>(out.width) * out.height * 3);
    auto at = [&](int x, int y, int c) { return in.rgb[(static_cast<std::size_t>(y) * in.width + x) * 3 + c]; };
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < 3; ++c)
                out.rgb[(static_cast<std::size_t>(y) * out.width + x) * 3 + c] = static_cast<unsigned char>(
                    (at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c) +
                     at(2 * x + 1, 2 * y + 1, c) + 2) / 4);
    return out;
}

/// Brighter by 20 %, clamped at 255 (Python: img.point(lambda p: p * 1.2)).
void brighten(Image& img) {
    for (auto& v : img.rgb) v = static_cast<unsigned char>(std::min(255, v * 6 / 5));
}

double mean_brightness(const Image& img) {
    double sum = 0;
    for (auto v : img.rgb) sum += v;
    return sum / static_cast<double>(img.rgb.size());
}

/// Input image i: smooth gradients plus a checkerboard, different for every i.
void generate_inputs(const fs::path& dir) {
    for (int i = 0; i < kGoodImages; ++i) {
        Image img{kWidth, kHeight, {}};
        for (int y = 0; y < kHeight; ++y)
            for (int x = 0; x < kWidth; ++x) {
                const bool dark = ((x / 20 + y / 20 + i) % 2) != 0;
                img.rgb.push_back(static_cast<unsigned char>(x * 200 / kWidth));
                img.rgb.push_back(static_cast<unsigned char>(y * 200 / kHeight));
                img.rgb.push_back(static_cast<unsigned char>(dark ? 40 : 40 + 10 * i));
            }
        char name[32];
        std::snprintf(name, sizeof name, "img_%02d.ppm", i);
        write_ppm(dir / name, img);
    }
    // A corrupt one: a valid header promising more pixels than the file holds.
    std::ofstream(dir / "img_12.ppm", std::ios::binary) << "P6\n240 160\n255\n" << std::string(1000, 'x');
}

struct Task { char name[32]; };
struct Result { char name[32]; bool ok; char error[96]; };
static_assert(sizeof(Result) <= PIPE_BUF);

/// The work of one task. Any exception becomes a failed Result, so one bad file
/// cannot take the worker (or the batch) down.
Result process_image(const fs::path& in_dir, const fs::path& out_dir, const Task& t) {
    Result r{};
    std::snprintf(r.name, sizeof r.name, "%s", t.name);
    try {
        Image img = halve(read_ppm(in_dir / t.name));
        brighten(img);
        write_ppm(out_dir / ("processed_" + std::string(t.name)), img);
        r.ok = true;
    } catch (const std::exception& e) {
        std::snprintf(r.error, sizeof r.error, "%s", e.what());
    }
    return r;
}

template <class T>
void send(int fd, const T& record) {
    if (check(write(fd, &record, sizeof record), "write") != sizeof record)
        throw std::runtime_error("short write");
}
template <class T>
bool receive(int fd, T& record) {
    long n;
    while ((n = read(fd, &record, sizeof record)) == -1 && errno == EINTR) {}
    if (check(n, "read") == 0) return false;
    if (n != sizeof record) throw std::runtime_error("short read");
    return true;
}

// ANCHOR: pool
/// A fixed pool of forked workers fed through a packet-mode pipe (one read() = one
/// task), answering through a result pipe. The destructor kills and reaps workers
/// that were not joined (the parent is leaving early).
class ProcessPool {
public:
    template <class F>
    ProcessPool(int workers, F work) : tasks_(O_DIRECT) {
        pids_.reserve(static_cast<std::size_t>(workers));
        for (int w = 0; w < workers; ++w) {
            std::cout.flush();
            pid_t pid = static_cast<pid_t>(check(fork(), "fork"));
            if (pid == 0) {  // the child ends here, whatever happens: never in main's code
                int code = 1;
                try {
                    tasks_.write.close();
                    results_.read.close();
                    for (Task t; receive(tasks_.read.get(), t);) send(results_.write.get(), work(t));
                    code = 0;
                } catch (...) {}
                std::fflush(stdout);
                _exit(code);
            }
            pids_.push_back(pid);
        }
        tasks_.read.close();
        results_.write.close();
    }
    ProcessPool(const ProcessPool&) = delete;
    ProcessPool& operator=(const ProcessPool&) = delete;
    ~ProcessPool() {  // SIGKILL cannot be caught: these waits are bounded
        for (pid_t pid : pids_) if (::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
    }

    /// Python's pool.map: submit everything, then collect one result per task.
    std::vector<Result> map(const std::vector<Task>& tasks) {
        for (auto& t : tasks) send(tasks_.write.get(), t);
        tasks_.write.close();   // no more tasks: workers exit when the queue is empty
        std::vector<Result> out;
        for (Result r; receive(results_.read.get(), r);) out.push_back(r);
        return out;
    }
    bool join() {  // the workers end by themselves once the task pipe is closed
        bool ok = true;
        tasks_.write.close();
        for (pid_t pid : pids_) {
            int status;
            check(waitpid(pid, &status, 0), "waitpid");
            ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        pids_.clear();
        return ok;
    }
private:
    Pipe tasks_, results_;
    std::vector<pid_t> pids_;
};
// ANCHOR_END: pool

}  // namespace

int run() {
    TempDir tmp;
    const fs::path in_dir = tmp.path() / "input", out_dir = tmp.path() / "output";
    fs::create_directories(in_dir);
    fs::create_directories(out_dir);
    generate_inputs(in_dir);

    std::vector<Task> tasks;
    for (auto& entry : fs::directory_iterator(in_dir)) {
        Task t{};
        std::snprintf(t.name, sizeof t.name, "%s", entry.path().filename().c_str());
        tasks.push_back(t);
    }
    std::cout << "generated " << tasks.size() << " input images (" << kWidth << "x" << kHeight
              << " PPM, one corrupt on purpose) in a temporary directory\n";

    const auto t0 = std::chrono::steady_clock::now();
    // ANCHOR: map
    ProcessPool pool(kWorkers, [&](const Task& t) { return process_image(in_dir, out_dir, t); });
    std::vector<Result> results = pool.map(tasks);
    const bool workers_ok = pool.join();
    // ANCHOR_END: map
    const long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0).count();

    std::sort(results.begin(), results.end(),
              [](const Result& a, const Result& b) { return std::strcmp(a.name, b.name) < 0; });
    int succeeded = 0, failed = 0;
    for (auto& r : results) {
        if (r.ok) ++succeeded;
        else {
            ++failed;
            std::cout << "failed: " << r.name << ": " << r.error << '\n';
        }
    }
    std::cout << kWorkers << " worker processes: total " << results.size() << ", succeeded "
              << succeeded << ", failed " << failed << ", time " << ms << " ms\n";

    // Trust, but verify: read every output back.
    int verified = 0;
    double before = 0, after = 0;
    for (auto& r : results) {
        if (!r.ok) continue;
        Image in = read_ppm(in_dir / r.name);
        Image out = read_ppm(out_dir / ("processed_" + std::string(r.name)));
        verified += (out.width == kWidth / 2 && out.height == kHeight / 2);
        before += mean_brightness(in) / succeeded;
        after += mean_brightness(out) / succeeded;
    }
    std::printf("outputs verified: %d of %d are %dx%d; mean brightness %.1f -> %.1f\n",
                verified, succeeded, kWidth / 2, kHeight / 2, before, after);
    std::fflush(stdout);

    const fs::path where = tmp.path();
    tmp.remove();
    const bool removed = !fs::exists(where);
    std::cout << "temporary directory removed: " << (removed ? "yes" : "no") << '\n';

    const bool ok = workers_ok && succeeded == kGoodImages && failed == 1 &&
                    verified == kGoodImages && after > before && removed;
    return ok ? 0 : 1;
}

int main(int argc, char* argv[]) {
    if (argc > 1) {
        std::cerr << "usage: " << argv[0] << '\n';
        return 2;
    }
    try {
        return run();
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::cerr << "image_processor: " << e.what() << '\n';
        return 1;
    }
}
