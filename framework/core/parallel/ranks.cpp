#include <othrun/error.hpp>
#include <othrun/ranks.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "parallel/host_ranks.hpp"

namespace othrun {

RowShare Ranks::share_of(int rank, std::uint64_t total, std::uint64_t block) const {
  if (block == 0) throw Error("Ranks::share: block must be at least 1 game");
  const auto n = static_cast<std::uint64_t>(size());
  const auto r = static_cast<std::uint64_t>(rank);
  const std::uint64_t blocks = (total + block - 1) / block;
  // floor(r * blocks / n) without overflow: blocks = q * n + m, so it is r * q + floor(r * m / n).
  const auto first_of = [&](std::uint64_t k) { return k * (blocks / n) + k * (blocks % n) / n; };
  const std::uint64_t first_block = first_of(r);
  const std::uint64_t end_block = first_of(r + 1);
  return {std::min(total, first_block * block), std::min(total, end_block * block)};
}

const char* ByteReader::take(std::size_t n) {
  if (n > bytes_.size() - offset_) {
    throw Error(fmt::format("a message between ranks ends after {} bytes; {} more were expected",
                            bytes_.size(), offset_ + n - bytes_.size()));
  }
  const char* at = bytes_.data() + offset_;
  offset_ += n;
  return at;
}

void OneProcess::abort(int exit_code) { std::exit(exit_code); }

bool all_ranks_ok(Ranks& ranks, bool ok) {
  const std::vector<char> all = all_gather_values(ranks, static_cast<char>(ok ? 1 : 0));
  return std::all_of(all.begin(), all.end(), [](char one) { return one == 1; });
}

}  // namespace othrun
