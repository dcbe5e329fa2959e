// inference: runs Othello-GPT (othrun::gpt::HookedTransformer, TransformerLens-exact) over a games
// product in chunks of games and caches the requested hooks (docs/inference.md). Memory is bounded
// by batch_games: only one chunk's cache exists at a time. With `device: cuda` (or `auto` on a
// machine with a GPU) the CUDA backend (plugins/inference/cuda, a library loaded only then) runs
// instead.
#include <othrun/games.hpp>
#include <othrun/log.hpp>
#include <othrun/plugin.hpp>
#include <othrun/progress.hpp>
#include <othrun/torch/hooks.hpp>

#include <algorithm>
#include <chrono>

#include "activation_writer.hpp"
#include "device_choice.hpp"
#include "logprob_board.hpp"
#include "options.hpp"
#include "product.hpp"

namespace othrun::inference {

namespace {

// Model input: the games' tokens without the last move (59 positions for 60-move games).
HostTensor model_input(const std::vector<std::int8_t>& tokens, std::int64_t count,
                       std::int64_t n_pos) {
  HostTensor out(DType::Int64, {count, n_pos});
  auto* dst = reinterpret_cast<std::int64_t*>(out.mutable_data());
  for (std::int64_t g = 0; g < count; ++g) {
    for (std::int64_t p = 0; p < n_pos; ++p) dst[g * n_pos + p] = tokens[g * games::kPositions + p];
  }
  return out;
}

LogProbBoard logprob_board(const gpt::HookedTransformer& model, std::span<const std::int8_t> tokens,
                           std::int64_t moves) {
  std::vector<std::int64_t> prefix(tokens.begin(), tokens.begin() + moves);
  const gpt::Cache cache = model.run(
      HostTensor::from_values<std::int64_t>({1, moves}, std::span<const std::int64_t>(prefix)),
      board_request(moves));
  return board_from_log_probs(cache.at("log_probs").to_vector<float>());  // [1, 1, vocab]
}

}  // namespace

class Inference : public Step {
 public:
  static constexpr const char* kName = "inference";
  static constexpr const char* kVersion = "1.1.0";

  static Schema describe() { return describe_schema(); }
  // Always available (the CPU); the note says whether `device: cuda` can run and why not.
  static Availability probe() { return cuda_note(); }
  static void validate(const Config& config) {
    validate_config(config);
    check_device(config.get_string("device"));
  }
  static DatasetDecls produces(const Config& config) { return produces_datasets(config); }

  explicit Inference(const Config& config)
      : options_(parse_options(config)), device_(config.get_string("device")) {}

  void run(RunContext& ctx) override {
    if (choose_device(device_) == Device::Cuda) {
      run_on_cuda_backend(options_, ctx);
      return;
    }
    gpt::set_num_threads(ctx.threads());
    const auto model = gpt::HookedTransformer::from_file(options_.model, options_.load);
    log::info("inference: {} ({}) on the CPU", options_.model.string(), model.config().to_string());
    const games::GamesReader games(ctx.input("games"));
    const std::uint64_t n_games = options_.max_games > 0
                                      ? std::min<std::uint64_t>(games.size(), options_.max_games)
                                      : games.size();
    const gpt::RunRequest request = make_request(options_, model.config());
    Group& root = ctx.output().root();
    describe_product(root, options_, model.config(), gpt::to_string(model.source_format()), n_games,
                     "cpu");
    // Shares in whole chunks: each game is computed in the same batch as by one process.
    const RowShare share =
        ctx.ranks().share(n_games, static_cast<std::uint64_t>(options_.batch_games));
    run_chunks(model, games, share, ctx.ranks(), request, root);
    if (options_.board_moves > 0 && ctx.ranks().is_root()) write_logprob_board(model, games, root);
  }

 private:
  void run_chunks(const gpt::HookedTransformer& model, const games::GamesReader& games,
                  const RowShare& share, const Ranks& ranks, const gpt::RunRequest& request,
                  Group& root) const {
    const std::int64_t n_pos = input_positions(model.config());
    const std::int64_t pos_end = request.pos_end < 0 ? n_pos : std::min(request.pos_end, n_pos);
    ActivationWriter writer(ranks, root, share.count(), options_.float16, request.pos_begin,
                            pos_end);
    Progress progress("inference", share.count(), "games");
    const auto start = std::chrono::steady_clock::now();
    const auto chunk = static_cast<std::uint64_t>(options_.batch_games);
    for (std::uint64_t first = share.begin; first < share.end; first += chunk) {
      const auto count = std::min(chunk, share.end - first);
      const HostTensor input =
          model_input(games.tokens(first, count), static_cast<std::int64_t>(count), n_pos);
      const auto chunk_start = std::chrono::steady_clock::now();
      gpt::Cache cache = model.run(input, request);
      const auto forward_end = std::chrono::steady_clock::now();
      writer.write(first - share.begin, cache);
      log::debug("inference: games {}..{}: forward {:.3f} s", first, first + count,
                 std::chrono::duration<double>(forward_end - chunk_start).count());
      progress.advance(count);
    }
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    record_timing(root, share.count(), n_pos, total, writer.seconds());
  }

  void write_logprob_board(const gpt::HookedTransformer& model, const games::GamesReader& games,
                           Group& root) const {
    if (static_cast<std::uint64_t>(options_.board_game) >= games.size()) {
      throw ConfigError("board_game", fmt::format("game {} does not exist ({} games)",
                                                  options_.board_game, games.size()));
    }
    const auto tokens = games.tokens(static_cast<std::uint64_t>(options_.board_game), 1);
    const LogProbBoard board = logprob_board(model, tokens, options_.board_moves);
    write_board(root, board, options_.board_game, options_.board_moves);
  }

  Options options_;
  std::string device_;
};

}  // namespace othrun::inference

OTHRUN_PLUGIN(othrun::inference::Inference)
