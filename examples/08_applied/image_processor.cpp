// image_processor.cpp - a parallel image processor on top of chapter 3's process pool.
//
// It writes its own input images (binary PPM, "P6": a tiny header, then RGB bytes),
// one of them corrupt on purpose, has a pool of worker processes halve and brighten
// each one, reads every output back to verify it, and removes its temporary directory.
// The processes, pipes and clean-up are all in process_pool.hpp: this is the
// application code a reader writes when they reuse the pool.
//
// Python: Pool(3).imap(process_image, files), PIL doing the pixels.
#include "process_pool.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr int kGoodImages = 12, kWidth = 240, kHeight = 160;

struct Image {
    int width = 0, height = 0;
    std::vector<unsigned char> rgb;  // width * height * 3 bytes
};

Image read_ppm(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::string magic;
    int maxval = 0;
    Image img;
    if (!(in >> magic >> img.width >> img.height >> maxval) || magic != "P6" || maxval != 255)
        throw std::runtime_error("not an 8-bit P6 image");
    in.get();  // the single whitespace byte after the header
    img.rgb.resize(std::size_t(img.width) * img.height * 3);
    in.read(reinterpret_cast<char*>(img.rgb.data()), std::streamsize(img.rgb.size()));
    if (std::size_t(in.gcount()) != img.rgb.size())
        throw std::runtime_error("truncated pixel data (" + std::to_string(in.gcount()) + " of " +
                                 std::to_string(img.rgb.size()) + " bytes)");
    return img;
}

void write_ppm(const fs::path& file, const Image& img) {
    std::ofstream out(file, std::ios::binary);
    out << "P6\n" << img.width << ' ' << img.height << "\n255\n";
    out.write(reinterpret_cast<const char*>(img.rgb.data()), std::streamsize(img.rgb.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + file.string());
}

/// Half size (each pixel the rounded mean of a 2x2 block), then 20 % brighter, at most 255.
Image halve_and_brighten(const Image& in) {
    Image out{in.width / 2, in.height / 2, {}};
    auto at = [&](int x, int y, int c) { return in.rgb[(std::size_t(y) * in.width + x) * 3 + c]; };
    for (int y = 0; y < out.height; ++y)
        for (int x = 0; x < out.width; ++x)
            for (int c = 0; c < 3; ++c) {
                int sum = at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) +
                          at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c);
                out.rgb.push_back(static_cast<unsigned char>(std::min(255, (sum + 2) / 4 * 6 / 5)));
            }
    return out;
}

double mean_brightness(const Image& img) {
    return std::accumulate(img.rgb.begin(), img.rgb.end(), 0.0) / double(img.rgb.size());
}

/// Twelve test images (gradients and a checkerboard, each different), then a corrupt
/// one whose header promises more pixels than the file holds. Returns the names.
std::vector<std::string> generate_inputs(const fs::path& dir) {
    std::vector<std::string> names;
    for (int i = 0; i < kGoodImages; ++i) {
        Image img{kWidth, kHeight, {}};
        for (int y = 0; y < kHeight; ++y)
            for (int x = 0; x < kWidth; ++x) {
                const bool dark = ((x / 20 + y / 20 + i) % 2) != 0;
                img.rgb.push_back(static_cast<unsigned char>(x * 200 / kWidth));
                img.rgb.push_back(static_cast<unsigned char>(y * 200 / kHeight));
                img.rgb.push_back(static_cast<unsigned char>(dark ? 40 : 40 + 10 * i));
            }
        char name[16];
        std::snprintf(name, sizeof name, "img_%02d.ppm", i);
        write_ppm(dir / name, img);
        names.push_back(name);
    }
    names.push_back("img_12.ppm");
    std::ofstream(dir / names.back(), std::ios::binary) << "P6\n240 160\n255\n" << std::string(1000, 'x');
    return names;
}

/// A directory under /tmp, removed with everything in it however run() is left.
struct TempDir {
    fs::path path;
    TempDir() {
        std::string name = (fs::temp_directory_path() / "image_processor.XXXXXX").string();
        if (!::mkdtemp(name.data())) throw std::system_error(errno, std::generic_category(), "mkdtemp");
        path = name;
    }
    ~TempDir() { std::error_code ignored; fs::remove_all(path, ignored); }
};

}  // namespace

int run() {
    TempDir tmp;
    const fs::path in_dir = tmp.path / "input", out_dir = tmp.path / "output";
    fs::create_directories(in_dir);
    fs::create_directories(out_dir);
    const std::vector<std::string> files = generate_inputs(in_dir);
    std::cout << "generated " << files.size() << " input images (" << kWidth << "x" << kHeight
              << " PPM, one corrupt on purpose) in a temporary directory\n";

    PoolOptions options;
    options.workers = 3;
    options.task_timeout = std::chrono::seconds(10);  // a stuck file fails; it cannot hang us
    ProcessPool pool(options);
    // The task is a capturing lambda: workers are forks, so each holds its own copy.
    auto process = pool.def<std::string(std::string)>([in_dir, out_dir](std::string name) {
        write_ppm(out_dir / ("processed_" + name), halve_and_brighten(read_ppm(in_dir / name)));
        return "processed_" + name;  // a throw instead travels back to the caller
    });
    pool.start();

    const auto t0 = std::chrono::steady_clock::now();
    ResultStream<std::string> results = pool.imap(process, files);
    std::vector<std::pair<std::string, std::string>> done;  // input, output
    int failed = 0;
    for (const std::string& name : files) {
        try {
            done.emplace_back(name, results.next().value());  // in input order; a failed task rethrows
        } catch (const std::runtime_error& e) {  // the worker's own type and message
            ++failed;
            std::cout << "failed: " << name << ": " << e.what() << '\n';
        }
    }
    pool.close();
    pool.join();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0).count();
    std::cout << options.workers << " worker processes: total " << files.size() << ", succeeded "
              << done.size() << ", failed " << failed << ", time " << ms << " ms\n";

    // Trust, but verify: read every output back, and its input.
    int verified = 0;
    double before = 0, after = 0;
    for (const auto& [input, output] : done) {
        Image out = read_ppm(out_dir / output);
        verified += out.width == kWidth / 2 && out.height == kHeight / 2;
        before += mean_brightness(read_ppm(in_dir / input)) / double(done.size());
        after += mean_brightness(out) / double(done.size());
    }
    std::printf("outputs verified: %d of %zu are %dx%d; mean brightness %.1f -> %.1f\n",
                verified, done.size(), kWidth / 2, kHeight / 2, before, after);
    std::fflush(stdout);

    std::error_code ec;
    fs::remove_all(tmp.path, ec);  // the destructor would too; here we can check it
    const bool removed = !fs::exists(tmp.path);
    std::cout << "temporary directory removed: " << (removed ? "yes" : "no") << '\n';
    return done.size() == kGoodImages && failed == 1 && verified == kGoodImages &&
                   after > before && removed ? 0 : 1;
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
