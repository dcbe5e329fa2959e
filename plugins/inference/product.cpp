#include "product.hpp"

#include <othrun/error.hpp>
#include <othrun/games.hpp>
#include <othrun/hooks.hpp>
#include <othrun/log.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace othrun::inference {

std::int64_t input_positions(const gpt::ModelConfig& config) {
  return std::min<std::int64_t>(games::kPositions - 1, config.n_ctx);
}

gpt::RunRequest make_request(const Options& options, const gpt::ModelConfig& config) {
  gpt::RunRequest request;
  for (const std::string& spec : options.hooks) {
    try {
      request.hooks.insert(resolve_hook(spec, config.n_layers));
    } catch (const Error& e) {
      throw ConfigError("hooks", e.what());
    }
  }
  request.logits = options.logits;
  request.pos_begin = options.positions.begin;
  request.pos_end = options.positions.end;
  const std::int64_t n_pos = input_positions(config);
  if (request.pos_begin >= n_pos) {
    throw ConfigError("positions", fmt::format("first position {} is past the model input's {} "
                                               "positions",
                                               request.pos_begin, n_pos));
  }
  return request;
}

void describe_product(Group& root, const Options& o, const gpt::ModelConfig& config,
                      const std::string& format, std::uint64_t n_games, const std::string& device) {
  auto a = root.attrs();
  a.set("model", o.model.string());
  a.set("model_format", format);
  a.set("model_config", config.to_string());
  a.set("process_weights",
        std::vector<std::string>{
            o.load.process.fold_ln ? "fold_ln" : "",
            o.load.process.center_writing_weights ? "center_writing_weights" : "",
            o.load.process.center_unembed ? "center_unembed" : "",
            o.load.process.fold_value_biases ? "fold_value_biases" : ""});
  a.set("device", device);
  a.set("games", static_cast<std::int64_t>(n_games));
  a.set("attention_mask", "-inf (TransformerLens IGNORE in current versions)");
}

void record_timing(Group& root, std::uint64_t n_games, std::int64_t n_pos, double total,
                   double store) {
  root.attrs().set("seconds_total", total);
  root.attrs().set("seconds_store", store);
  log::info("inference: {} games in {:.2f} s ({:.0f} tokens/s), {:.0f}% of it writing the store",
            n_games, total, total > 0 ? static_cast<double>(n_games) * n_pos / total : 0.0,
            total > 0 ? 100 * store / total : 0.0);
}

}  // namespace othrun::inference
