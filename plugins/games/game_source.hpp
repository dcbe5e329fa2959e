// Where games come from: a source yields batches of move squares ([count, 60], -1 after a game's
// end) that the pipeline replays into ground truth and writes.
#pragma once

#include <othrun/ranks.hpp>
#include <othrun/store.hpp>

#include <algorithm>

#include <cstdint>
#include <string>
#include <vector>

namespace othrun::games_plugin {

class GameSource {
 public:
  virtual ~GameSource() = default;
  // Total number of games the source yields.
  virtual std::uint64_t size() const = 0;
  // The next `count` games' squares, replacing `squares`' contents.
  virtual void next(std::uint64_t count, std::vector<std::int8_t>& squares) = 0;
  // Passes over the next `count` games (a rank's share starts after them).
  virtual void skip(std::uint64_t count) {
    std::vector<std::int8_t> squares;
    for (std::uint64_t done = 0; done < count; done += 8192)
      next(std::min<std::uint64_t>(8192, count - done), squares);
  }
  // Records where the games came from as attributes of the product's root. Under N ranks, every
  // rank calls it (collective) and rank 0's attributes are the product's.
  virtual void describe(Ranks& ranks, Attributes attrs) const = 0;
  // Prefix of replay errors (e.g. the file name), empty for none.
  virtual std::string error_prefix() const { return ""; }
  // Appended to replay errors: a likely cause (e.g. a declared encoding that does not fit).
  virtual std::string error_hint() { return ""; }
};

}  // namespace othrun::games_plugin
