// Load throughput of a torch.save state dict with othrun::load_pth, against a plain read() of the
// same file (into a ready buffer: the floor; into new memory: what any loader that returns new
// tensors pays) and against the same tensors as safetensors. Medians of several repetitions, page
// cache warm. Run by scripts/bench_checkpoint.sh, which makes a ~100 MB Othello-GPT-shaped file
// with torch.
//
//   bench_checkpoint FILE.pth [REPETITIONS]
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>

namespace {

using Clock = std::chrono::steady_clock;

// Reads the whole file with read() into `buffer` (allocated and faulted in once, outside the
// timing): the floor, the cost of moving the bytes from the page cache into memory.
std::size_t plain_read(const std::filesystem::path& path, std::vector<char>& buffer) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + path.string());
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return done;
}

// The same into newly allocated memory, as any loader that returns new tensors must: adds the
// page faults of fresh memory.
std::size_t fresh_read(const std::filesystem::path& path) {
  std::vector<char> buffer(std::filesystem::file_size(path));
  return plain_read(path, buffer);
}

double median_seconds(int repetitions, const std::function<void()>& fn) {
  fn();  // warm the page cache
  std::vector<double> times;
  for (int i = 0; i < repetitions; ++i) {
    // Hand freed memory back to the kernel, so that every repetition pays for fresh pages as the
    // first load in a process does (otherwise the result depends on what malloc kept around).
    ::malloc_trim(0);
    const auto start = Clock::now();
    fn();
    times.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void report(const char* what, double seconds, double megabytes, double baseline) {
  std::printf("  %-38s %8.1f ms  %7.0f MB/s  %5.2fx the floor\n", what, seconds * 1e3,
              megabytes / seconds, seconds / baseline);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_checkpoint FILE.pth [REPETITIONS]\n");
    return 2;
  }
  const std::filesystem::path path = argv[1];
  const int repetitions = argc > 2 ? std::max(1, std::atoi(argv[2])) : 7;
  try {
    const auto file = othrun::load_pth(path);
    std::uint64_t tensor_bytes = 0;
    for (const auto& t : file.tensors) tensor_bytes += t.tensor.nbytes();
    const auto safetensors = std::filesystem::temp_directory_path() /
                             ("bench_checkpoint_" + std::to_string(::getpid()) + ".safetensors");
    othrun::save_safetensors(safetensors, file.tensors);

    const double mb = static_cast<double>(std::filesystem::file_size(path)) / 1e6;
    const double st_mb = static_cast<double>(std::filesystem::file_size(safetensors)) / 1e6;
    std::printf("bench_checkpoint: %s, %.1f MB, %zu tensors (%.1f MB of data), median of %d\n",
                path.filename().c_str(), mb, file.tensors.size(),
                static_cast<double>(tensor_bytes) / 1e6, repetitions);
    std::vector<char> buffer(std::filesystem::file_size(path));
    const double plain = median_seconds(repetitions, [&] { plain_read(path, buffer); });
    const double pth = median_seconds(repetitions, [&] { othrun::load_pth(path); });
    const double st = median_seconds(repetitions, [&] { othrun::load_safetensors(safetensors); });
    const double fresh = median_seconds(repetitions, [&] { fresh_read(path); });
    report("read() of the .pth, ready buffer", plain, mb, plain);
    report("read() of the .pth, new buffer", fresh, mb, plain);
    report("othrun::load_pth (CRC-checked)", pth, mb, plain);
    report("othrun::load_safetensors (same data)", st, st_mb, plain);
    std::filesystem::remove(safetensors);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_checkpoint: %s\n", e.what());
    return 1;
  }
  return 0;
}
