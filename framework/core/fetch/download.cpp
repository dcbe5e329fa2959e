#include "fetch/download.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <thread>

#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include "fetch/download_progress.hpp"
#include "fetch/reference.hpp"

namespace fs = std::filesystem;

namespace othrun::fetch {
namespace {

// The partial file, opened for appending.
class PartialFile {
 public:
  explicit PartialFile(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw FetchError("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  ~PartialFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  PartialFile(const PartialFile&) = delete;
  PartialFile& operator=(const PartialFile&) = delete;

  // Returns an error message, empty on success.
  std::string write(const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::write(fd_, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return std::strerror(errno);
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return "";
  }
  std::string truncate() { return ::ftruncate(fd_, 0) == 0 ? "" : std::strerror(errno); }
  void sync() {
    if (::fsync(fd_) != 0) {
      throw FetchError("cannot write " + path_.string() + ": " + std::strerror(errno));
    }
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

std::uint64_t size_on_disk(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

// The first byte of a 206 reply: "bytes FIRST-LAST/TOTAL".
std::optional<std::uint64_t> range_start(const HttpResponse& reply) {
  const std::string range = reply.header("content-range");
  if (range.rfind("bytes ", 0) != 0) return std::nullopt;
  try {
    return std::stoull(range.substr(6));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const char* reason_phrase(long status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// One GET from where the partial file ends. Returns the reply; `received` says how many bytes it
// added.
HttpResponse attempt(const DownloadJob& job, const Settings& settings, DownloadProgress& progress,
                     std::uint64_t& received) {
  std::uint64_t offset = size_on_disk(job.partial);
  PartialFile out(job.partial);
  std::string write_error;
  bool first = true;
  HttpRequest request;
  request.url = job.url;
  request.follow_redirects = true;
  request.headers = job.headers;
  request.headers.push_back("Accept-Encoding: identity");  // sizes and hashes are of the bytes
  request.range_from = offset;
  request.connect_timeout_s = settings.metadata_timeout_s;
  request.stall_timeout_s = settings.download_timeout_s;
  request.on_body = [&](const HttpResponse& reply, const char* data, std::size_t size) {
    if (first) {
      first = false;
      if (offset > 0 && reply.status == 200) {  // the server ignored Range: start over
        write_error = out.truncate();
        offset = 0;
      } else if (reply.status == 206 && range_start(reply) != offset) {
        write_error = "the server resumed at another byte than asked (" +
                      reply.header("content-range") + ", asked from " + std::to_string(offset) +
                      ")";
      }
      if (!write_error.empty()) return false;
    }
    write_error = out.write(data, size);
    if (!write_error.empty()) return false;
    received += size;
    progress.set_done(offset + received);
    return true;
  };
  HttpResponse response = perform(request);
  if (!write_error.empty())
    throw FetchError("cannot write " + job.partial.string() + ": " + write_error);
  if (first && response.status == 200 && offset > 0 && !response.transport_failed()) {
    out.truncate();  // an empty 200 reply to a Range request: the file is empty
  }
  if (!response.transport_failed() && response.status >= 200 && response.status < 300) out.sync();
  return response;
}

}  // namespace

std::string describe_failure(const HttpResponse& response) {
  if (response.transport_failed() && response.status == 0)
    return "no reply: " + response.curl_error;
  if (response.transport_failed()) {
    return fmt::format("HTTP {} then the transfer failed: {}", response.status,
                       response.curl_error);
  }
  const std::string phrase = reason_phrase(response.status);
  return fmt::format("HTTP {}{}", response.status, phrase.empty() ? "" : " (" + phrase + ")");
}

void back_off(const Settings& settings, int attempt, const HttpResponse& response) {
  double seconds = std::min(8.0, settings.retry_delay_s * (1 << std::min(attempt - 1, 10)));
  const std::string retry_after = response.header("retry-after");
  const bool seconds_given = !retry_after.empty() && retry_after.size() < 6 &&
                             std::all_of(retry_after.begin(), retry_after.end(),
                                         [](unsigned char c) { return std::isdigit(c); });
  if (seconds_given) {  // (an HTTP date instead is ignored: the back-off applies)
    seconds = std::min(30.0, std::stod(retry_after));
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    check_interrupt();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void download(const DownloadJob& job, const Settings& settings) {
  DownloadProgress progress(job.name, job.size.value_or(0), size_on_disk(job.partial));
  int failures = 0;
  while (true) {
    check_interrupt();
    std::uint64_t on_disk = size_on_disk(job.partial);
    if (job.size && on_disk == *job.size && on_disk > 0) return;  // an earlier run got it all
    if (job.size && on_disk > *job.size) {                        // not this file: start over
      fs::remove(job.partial);
      on_disk = 0;
    }
    if (on_disk > 0) log::info("{}: resuming at byte {}", job.name, on_disk);
    std::uint64_t received = 0;
    const HttpResponse response = attempt(job, settings, progress, received);
    if (response.curl_code != 0 && interrupt_requested()) throw Interrupted();
    const bool ok = !response.transport_failed() && response.status >= 200 && response.status < 300;
    if (ok) {
      const std::uint64_t size = size_on_disk(job.partial);
      if (job.size && size != *job.size) {
        fs::remove(job.partial);
        throw FetchError(fmt::format("{}: {} sent {} bytes, but {} were announced", job.name,
                                     job.url, size, *job.size));
      }
      return;
    }
    if (response.status == 416) {
      fs::remove(job.partial);  // what we hold is no prefix of the file: start over
    } else if (!response.retryable()) {
      throw FetchError(
          fmt::format("{}: {} from {}", job.name, describe_failure(response), job.url));
    }
    failures = received > 0 ? 1 : failures + 1;  // bytes arrived: the connection works, go on
    if (failures > settings.retries) {
      throw FetchError(
          fmt::format("{}: {} from {} (gave up after {} retries; run again to resume "
                      "from byte {})",
                      job.name, describe_failure(response), job.url, settings.retries,
                      size_on_disk(job.partial)));
    }
    log::warn("{}: {}; retrying ({} of {})", job.name, describe_failure(response), failures,
              settings.retries);
    back_off(settings, failures, response);
  }
}

}  // namespace othrun::fetch
