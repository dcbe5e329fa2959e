// What the CPU and CUDA paths of the inference step share: the request built from the options,
// the product's root attributes and the closing timing record.
#pragma once

#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>  // RunRequest (types only)

#include <cstdint>
#include <string>

#include "options.hpp"

namespace othrun::inference {

// The model input's positions: the games' tokens without the last move, at most n_ctx.
std::int64_t input_positions(const gpt::ModelConfig& config);

// The hooks resolved against the model and the position range (ConfigError on a bad one).
gpt::RunRequest make_request(const Options& options, const gpt::ModelConfig& config);

// Root attributes: model, model_format, model_config, process_weights, device, games, mask.
void describe_product(Group& root, const Options& options, const gpt::ModelConfig& config,
                      const std::string& format, std::uint64_t n_games, const std::string& device);

// seconds_total, seconds_store and the closing log line.
void record_timing(Group& root, std::uint64_t n_games, std::int64_t n_pos, double seconds_total,
                   double seconds_store);

}  // namespace othrun::inference
