// Games imported from a [N, L] .npy array of move records (board_seqs_int*.npy,
// board_seqs_string*.npy), L <= 60, in the int or string encoding (declared or detected).
#pragma once

#include <othrun/npy.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "encoding.hpp"
#include "game_source.hpp"

namespace othrun::games_plugin {

struct NpyOptions {
  std::filesystem::path path;
  std::optional<Encoding> encoding;    // nullopt: detect
  std::optional<std::uint64_t> games;  // import only the first `games` rows
};

class NpySource : public GameSource {
 public:
  // Opens the file, checks its shape and settles the encoding. Throws DataError naming the file.
  explicit NpySource(NpyOptions options);

  std::uint64_t size() const override { return games_; }
  void next(std::uint64_t count, std::vector<std::int8_t>& squares) override;
  void describe(Ranks& ranks, Attributes attrs) const override;
  std::string error_prefix() const override { return options_.path.string() + ": "; }
  std::string error_hint() override;

  Encoding encoding() const { return encoding_; }
  bool detected() const { return detected_; }

 private:
  // The encoding every row fits, or nullopt; `explanation` says why.
  std::optional<Encoding> fitting_encoding(std::string& explanation);
  Encoding detect();
  [[noreturn]] void fail(const std::string& what) const;

  NpyOptions options_;
  npy::Reader reader_;
  std::uint64_t games_ = 0;
  std::uint64_t moves_ = 0;  // columns of the array
  std::uint64_t cursor_ = 0;
  Encoding encoding_ = Encoding::Int;
  bool detected_ = false;
  std::vector<std::int64_t> values_;
};

}  // namespace othrun::games_plugin
