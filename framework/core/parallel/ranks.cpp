#include <othrun/error.hpp>
#include <othrun/ranks.hpp>

#include <fmt/format.h>

#include <cstdlib>

#include "parallel/host_ranks.hpp"

namespace othrun {

RowShare Ranks::share_of(int rank, std::uint64_t total, std::uint64_t block) const {
  if (block == 0) throw Error("Ranks::share: block must be at least 1 game");
  const auto n = static_cast<std::uint64_t>(size());
  const auto r = static_cast<std::uint64_t>(rank);
  const std::uint64_t blocks = (total + block - 1) / block;
  // r * blocks / n without overflow for any realistic count of games.
  const auto first_block =
      static_cast<std::uint64_t>(static_cast<unsigned __int128>(r) * blocks / n);
  const auto end_block =
      static_cast<std::uint64_t>(static_cast<unsigned __int128>(r + 1) * blocks / n);
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
  const char mine = ok ? 1 : 0;
  char all = mine;
  for (const auto& part : ranks.gather(std::span<const char>(&mine, 1))) {
    if (part.size() != 1 || part[0] != 1) all = 0;
  }
  return ranks.broadcast(std::span<const char>(&all, 1)).at(0) == 1;
}

}  // namespace othrun
