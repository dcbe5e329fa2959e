// The cost of an SAE to the model: the next-move loss when the SAE's reconstruction replaces the
// activation at its hook, against the clean loss. Runs the model through libothrun_torch with an
// SAE edit that drops the error term (edits.hpp: keep_error = false, no feature changed), so the
// spliced value is exactly decode(encode(x)). Built only with libothrun_torch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <othrun/analysis/sae.hpp>
#include <othrun/contract.hpp>
#include <othrun/games.hpp>

namespace othrun::sae_encode {

struct SpliceLoss {
  double clean = 0;          // mean next-move cross-entropy of the unchanged model
  double spliced = 0;        // the same with the SAE's reconstruction at the hook
  std::int64_t targets = 0;  // next moves averaged over (every position of every game)
  std::uint64_t games = 0;
  std::int64_t splice_begin = 0, splice_stop = 0;  // the model positions spliced, [begin, stop)
};

struct SpliceRequest {
  std::filesystem::path model;  // Othello-GPT checkpoint, loaded as inference's defaults
  std::string hook;             // full TransformerLens name
  PositionRange positions;      // where the reconstruction replaces the activation
  std::uint64_t games = 0;      // the first `games` games of the reader
  std::uint64_t batch_games = 64;
  int threads = 1;
};

// Refuses (ConfigError on `model_key`) a model that lacks `hook` or whose width there is not the
// SAE's d_in. Runs the model on one token to learn the hook's width.
void check_splice(const std::filesystem::path& model, const std::string& hook,
                  const analysis::Sae& sae, const std::string& model_key);

// The next-move loss of the model on games [0, request.games) of `games`, clean and spliced.
// Targets are the next moves (tokens 1..59, padding after a game's end skipped); every position
// counts, the spliced ones and (unchanged by a later splice) the ones before them.
SpliceLoss splice_loss(const SpliceRequest& request, std::shared_ptr<const analysis::Sae> sae,
                       const games::GamesReader& games);

}  // namespace othrun::sae_encode
