// Splits a range of work items over threads in contiguous shares.
#pragma once

#include <algorithm>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace othrun::games_plugin {

// Runs body(begin, end) on up to `threads` contiguous shares of [0, n): share w covers
// [n * w / k, n * (w + 1) / k). The calling thread takes the last share. Rethrows the first share's
// exception (in share order) after every thread has finished.
template <class Body>
void parallel_for(int threads, std::uint64_t n, Body&& body) {
  const std::uint64_t shares = std::clamp<std::uint64_t>(
      static_cast<std::uint64_t>(std::max(threads, 1)), 1, std::max<std::uint64_t>(n, 1));
  std::vector<std::exception_ptr> errors(shares);
  {
    std::vector<std::jthread> pool;
    for (std::uint64_t w = 0; w < shares; ++w) {
      auto share = [&, w] {
        try {
          body(n * w / shares, n * (w + 1) / shares);
        } catch (...) {
          errors[w] = std::current_exception();
        }
      };
      if (w + 1 == shares) {
        share();
      } else {
        pool.emplace_back(share);
      }
    }
  }  // joins
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace othrun::games_plugin
