#include "splice_loss.hpp"

#include <othrun/error.hpp>
#include <othrun/othello.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

namespace othrun::sae_encode {
namespace {

// Positions the model reads: the 59 moves before the last (n_ctx may be shorter).
std::int64_t model_positions(const gpt::ModelConfig& config) {
  return std::min<std::int64_t>(games::kPositions - 1, config.n_ctx);
}

// Sum over the batch of -log p(next move) and the number of those targets.
struct LossSum {
  double sum = 0;
  std::int64_t targets = 0;
};

LossSum loss_sum(const HostTensor& log_probs, const std::vector<std::int8_t>& tokens,
                 std::int64_t batch, std::int64_t n_pos) {
  const auto vocab = static_cast<std::size_t>(log_probs.shape().back());
  const float* lp = log_probs.data_as<float>();
  LossSum out;
  for (std::int64_t g = 0; g < batch; ++g) {
    for (std::int64_t t = 0; t < n_pos; ++t) {
      const int target = tokens[static_cast<std::size_t>(g * games::kPositions + t + 1)];
      if (target == othello::kPaddingToken) continue;  // after the game's end
      const auto row = static_cast<std::size_t>(g * n_pos + t);
      out.sum -= static_cast<double>(lp[row * vocab + static_cast<std::size_t>(target)]);
      ++out.targets;
    }
  }
  return out;
}

HostTensor model_input(const std::vector<std::int8_t>& tokens, std::int64_t batch,
                       std::int64_t n_pos) {
  std::vector<std::int64_t> input(static_cast<std::size_t>(batch * n_pos));
  for (std::int64_t g = 0; g < batch; ++g)
    for (std::int64_t t = 0; t < n_pos; ++t)
      input[static_cast<std::size_t>(g * n_pos + t)] =
          tokens[static_cast<std::size_t>(g * games::kPositions + t)];
  return HostTensor::from_values<std::int64_t>({batch, n_pos}, input);
}

}  // namespace

void check_splice(const std::filesystem::path& model_path, const std::string& hook,
                  const analysis::Sae& sae, const std::string& model_key) {
  const auto model = gpt::HookedTransformer::from_file(model_path, {});
  gpt::RunRequest request;
  request.hooks = {hook};
  gpt::Cache cache;
  try {
    const std::vector<std::int64_t> one = {othello::kPaddingToken + 1};
    cache = model.run(HostTensor::from_values<std::int64_t>({1, 1}, one), request);
  } catch (const Error& error) {
    throw ConfigError(model_key, fmt::format("{} cannot splice at hook {}: {}", model_path.string(),
                                             hook, error.what()));
  }
  const std::int64_t width = cache.at(hook).shape().back();
  if (width != sae.d_in)
    throw ConfigError(model_key, fmt::format("{} has width {} at hook {}, but the SAE's d_in is {}",
                                             model_path.string(), width, hook, sae.d_in));
}

SpliceLoss splice_loss(const SpliceRequest& request, std::shared_ptr<const analysis::Sae> sae,
                       const games::GamesReader& games) {
  gpt::set_num_threads(std::max(1, request.threads));
  const auto model = gpt::HookedTransformer::from_file(request.model, {});
  const std::int64_t n_pos = model_positions(model.config());
  SpliceLoss out;
  out.games = std::min<std::uint64_t>(request.games, games.size());
  out.splice_begin = std::min(request.positions.begin, n_pos);
  out.splice_stop = request.positions.stop < 0 ? n_pos : std::min(request.positions.stop, n_pos);
  if (out.splice_begin >= out.splice_stop)
    throw ConfigError("metric_positions", fmt::format("{} holds none of the model's {} positions",
                                                      request.positions.to_string(), n_pos));
  std::vector<std::int64_t> spliced(static_cast<std::size_t>(out.splice_stop - out.splice_begin));
  std::iota(spliced.begin(), spliced.end(), out.splice_begin);
  gpt::Edit edit = gpt::Edit::sae_features(request.hook, std::move(sae), {},
                                           gpt::Positions::at(std::move(spliced)));
  edit.keep_error = false;  // the activation becomes decode(encode(x)): the splice

  gpt::RunRequest clean_request;
  clean_request.logits = gpt::LogitsOutput::LogProbs;
  gpt::RunRequest spliced_request = clean_request;
  spliced_request.edits = {edit};
  LossSum clean, with_sae;
  for (std::uint64_t first = 0; first < out.games; first += request.batch_games) {
    const std::uint64_t count = std::min(request.batch_games, out.games - first);
    const auto batch = static_cast<std::int64_t>(count);
    const std::vector<std::int8_t> tokens = games.tokens(first, count);
    const HostTensor input = model_input(tokens, batch, n_pos);
    const LossSum c =
        loss_sum(model.run(input, clean_request).at("log_probs"), tokens, batch, n_pos);
    const LossSum s =
        loss_sum(model.run(input, spliced_request).at("log_probs"), tokens, batch, n_pos);
    clean.sum += c.sum, clean.targets += c.targets;
    with_sae.sum += s.sum, with_sae.targets += s.targets;
  }
  if (clean.targets == 0) throw DataError("no next move to predict in the games: no loss");
  out.targets = clean.targets;
  out.clean = clean.sum / static_cast<double>(clean.targets);
  out.spliced = with_sae.sum / static_cast<double>(with_sae.targets);
  return out;
}

}  // namespace othrun::sae_encode
