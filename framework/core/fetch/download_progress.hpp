// Progress of one download on the terminal: bytes so far, total, rate and time left. Redrawn in
// place on a terminal, a log line every few seconds otherwise; silent for small or quick files.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace othrun::fetch {

class DownloadProgress {
 public:
  // `total` 0 when unknown; `already` bytes were there before (a resumed download).
  DownloadProgress(std::string name, std::uint64_t total, std::uint64_t already);
  ~DownloadProgress();
  DownloadProgress(const DownloadProgress&) = delete;
  DownloadProgress& operator=(const DownloadProgress&) = delete;

  void set_done(std::uint64_t bytes);  // bytes of the file now on disk

 private:
  void draw(bool final);

  std::string name_;
  std::uint64_t total_;
  std::uint64_t start_bytes_;
  std::uint64_t done_;
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// "1.5 GB", "312.0 kB", "17 B" (decimal units, as the Hub shows sizes).
std::string human_bytes(double bytes);
// "1:02:03", "4:05".
std::string human_duration(double seconds);

}  // namespace othrun::fetch
