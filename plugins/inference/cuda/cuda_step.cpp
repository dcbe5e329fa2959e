// The inference step on a CUDA GPU (the backend's run_step): the weights loaded and processed on
// the host, games streamed through CudaPipeline, hooks written to the same datasets,
// with the same attributes, as the CPU path (docs/inference.md).
#include <othrun/error.hpp>
#include <othrun/games.hpp>
#include <othrun/log.hpp>
#include <othrun/progress.hpp>

#include <fmt/format.h>

#include <algorithm>

#include "activation_writer.hpp"
#include "cuda_step.hpp"
#include "device_status.hpp"
#include "logprob_board.hpp"
#include "pipeline.hpp"
#include "product.hpp"

namespace othrun::inference {

namespace {

// GPU memory the step allows itself: 90% of what is free now (cuBLAS and the CUDA context need
// some besides the plan's buffers).
std::int64_t memory_budget() {
  std::size_t free = 0, total = 0;
  cuda_gpt::check_cuda(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
  return static_cast<std::int64_t>(static_cast<double>(free) * 0.9);
}

void write_board_on_cuda(cuda_gpt::CudaPipeline& pipeline, const Options& o,
                         const games::GamesReader& games, Group& root) {
  if (static_cast<std::uint64_t>(o.board_game) >= games.size()) {
    throw ConfigError("board_game",
                      fmt::format("game {} does not exist ({} games)", o.board_game, games.size()));
  }
  const auto tokens = games.tokens(static_cast<std::uint64_t>(o.board_game), 1);
  const std::vector<std::int32_t> prefix(tokens.begin(), tokens.begin() + o.board_moves);
  const gpt::Cache cache =
      pipeline.run_once(prefix, 1, static_cast<int>(o.board_moves), board_request(o.board_moves));
  write_board(root, board_from_log_probs(cache.at("log_probs").to_vector<float>()), o.board_game,
              o.board_moves);
}

}  // namespace

void run_on_cuda(const Options& o, RunContext& ctx) {
  const cuda_gpt::DeviceStatus status = cuda_gpt::cuda_device_status();
  if (!status.available) throw Error("inference: device cuda: " + status.reason);
  cuda_gpt::check_cuda(cudaSetDevice(0), "cudaSetDevice");
  const cuda_gpt::HostModel model = cuda_gpt::load_host_model(o.model, o.load);
  const gpt::ModelConfig& config = model.packed.config;
  log::info("inference: {} ({}) on {}", o.model.string(), config.to_string(), status.name);
  const games::GamesReader games(ctx.input("games"));
  const std::uint64_t n_games =
      o.max_games > 0 ? std::min<std::uint64_t>(games.size(), o.max_games) : games.size();
  const gpt::RunRequest request = make_request(o, config);
  Group& root = ctx.output().root();
  describe_product(root, o, config, gpt::to_string(model.format), n_games,
                   "cuda (" + status.name + ")");

  const auto n_pos = static_cast<int>(input_positions(config));
  const int wanted = static_cast<int>(std::min<std::int64_t>(
      o.batch_games, std::max<std::int64_t>(1, static_cast<std::int64_t>(n_games))));
  const int batch = cuda_gpt::fit_batch(config, request, wanted, n_pos, memory_budget());
  if (batch < wanted) {
    log::info("inference: batch_games {} lowered to {} to fit the GPU's free memory", wanted,
              batch);
  }
  cuda_gpt::CudaPipeline pipeline(model.packed, request, batch, n_pos);
  const cuda_gpt::PositionWindow window = cuda_gpt::position_window(request, n_pos);
  // Under N ranks each runs its share; the pipeline counts games from the share's start.
  const RowShare share = ctx.ranks().share(n_games, static_cast<std::uint64_t>(o.batch_games));
  ActivationWriter writer(ctx.ranks(), root, share.count(), o.float16, window.begin, window.end);
  Progress progress("inference", share.count(), "games");
  const auto fill = [&](std::uint64_t first, int count, std::int32_t* dst) {
    const std::vector<std::int8_t> tokens =
        games.tokens(share.begin + first, static_cast<std::uint64_t>(count));
    for (int g = 0; g < count; ++g) {
      for (int p = 0; p < n_pos; ++p) {
        dst[g * n_pos + p] = tokens[static_cast<std::size_t>(g) * games::kPositions + p];
      }
    }
  };
  const auto write = [&](std::uint64_t first, int count, const gpt::Cache& hooks) {
    writer.write_stored(first, hooks);
    progress.advance(static_cast<std::uint64_t>(count));
  };
  const cuda_gpt::PipelineTimes times = pipeline.run(share.count(), fill, write);
  record_timing(root, share.count(), n_pos, times.seconds_total, writer.seconds());
  root.attrs().set("seconds_gpu", times.seconds_gpu);
  root.attrs().set("seconds_wait_gpu", times.seconds_wait);
  log::info("inference: GPU forward {:.2f} s, host waiting for the GPU {:.2f} s (batch {})",
            times.seconds_gpu, times.seconds_wait, batch);
  if (o.board_moves > 0 && ctx.ranks().is_root()) write_board_on_cuda(pipeline, o, games, root);
}

}  // namespace othrun::inference
