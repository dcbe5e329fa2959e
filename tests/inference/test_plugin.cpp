// The inference plugin end to end: `othrun` runs a games step and an inference step on the random
// small reference model, and the store must hold what the (reference-checked) model computes.
#include <gtest/gtest.h>

#include <othrun/games.hpp>
#include <othrun/report.hpp>
#include <othrun/store.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "reference.hpp"

namespace othrun::gpt {
namespace {

std::string experiment(const std::filesystem::path& model, const std::string& extra) {
  return fmt::format(
      "name: e2e\nstore: out.h5\nseed: 3\nsteps:\n"
      "  - plugin: games\n    games: 7\n"
      "  - plugin: inference\n    label: cache\n    model: {}\n"
      "    hooks: [resid_pre.1, post:0, blocks.1.attn.hook_pattern, blocks.0.attn.hook_z]\n"
      "    batch_games: 3\n{}",
      model.string(), extra);
}

test::CommandOutput run_othrun(const std::filesystem::path& dir, const std::string& yaml,
                               const std::string& flags = "") {
  std::ofstream(dir / "x.yaml") << yaml;
  return test::run_command(fmt::format("{} --plugin-path {} --threads 2 {} {}", OTHRUN_EXE,
                                       OTHRUN_PLUGIN_DIR, flags, (dir / "x.yaml").string()));
}

TEST(InferencePlugin, StoresWhatTheModelComputes) {
  const test::ReferenceFiles& ref = test::reference("small", 4);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(), experiment(ref / "tl.pth", "    positions: \"5:54\"\n    logits: log_probs\n"));
  ASSERT_EQ(result.exit_code, 0) << result.output;

  Store store(dir.path() / "out.h5");
  const Product cache = store.open("cache");
  const Product games_product = store.open("games");
  const games::GamesReader games(games_product);
  ASSERT_EQ(games.size(), 7u);
  std::vector<std::int64_t> tokens;
  for (std::int8_t t : games.tokens(0, 7)) tokens.push_back(t);
  HostTensor all =
      HostTensor::from_values<std::int64_t>({7, 60}, std::span<const std::int64_t>(tokens));
  // Model input = tokens[:, :-1]: a strided view, then contiguous.
  HostTensor input = HostTensor(DType::Int64, {7, 59}, {60, 1}, 0, all.storage()).contiguous();

  const auto model = HookedTransformer::from_file(ref / "tl.pth", LoadOptions{});
  RunRequest request;
  request.hooks = {"blocks.1.hook_resid_pre", "blocks.0.mlp.hook_post", "blocks.0.attn.hook_z"};
  request.logits = LogitsOutput::LogProbs;
  request.pos_begin = 5;
  request.pos_end = 54;
  const Cache expected = model.run(input, request);
  // The plugin ran batches of 3 games on its thread settings, this run all 7 games on the test's:
  // different matrix shapes, so a BLAS kernel may sum in another order and results differ in the
  // last bits (2e-7..4e-7 relative on an Intel AVX-512 kernel). Both are within the reference
  // tests' 1e-5 of the float64 model (test_model.cpp, same model), hence within 2e-5 of each
  // other. Wrong games, positions or layouts differ by order 1.
  constexpr double kBatching = 2e-5;
  for (const auto& [name, tensor] : expected) {
    const Dataset d = cache.root().dataset(name);
    EXPECT_EQ(d.attrs().get_int("positions_start"), 5);
    const std::vector<float> stored = d.read_all<float>();
    ASSERT_EQ(stored.size(), static_cast<std::size_t>(tensor.numel())) << name;
    std::string why;
    EXPECT_LT(test::relative_error(
                  HostTensor::from_values<float>(tensor.shape(), std::span<const float>(stored)),
                  tensor, &why),
              kBatching)
        << name << why;
  }
  // Patterns are stored [game, query, head, key].
  EXPECT_EQ(cache.root().dataset("blocks.1.attn.hook_pattern").shape(),
            (std::vector<std::uint64_t>{7, 49, 4, 59}));
  EXPECT_EQ(cache.root().dataset("blocks.1.attn.hook_pattern").attrs().get_string("axes"),
            "game,query_pos,head,key_pos");

  // The log-prob board of game 0 after 30 moves = log_probs at position 29 of the full game.
  RunRequest lp;
  lp.logits = LogitsOutput::LogProbs;
  const std::vector<float> full = model.run(input, lp).at("log_probs").to_vector<float>();
  const std::vector<float> board =
      cache.root().dataset("logprob_board/log_probs").read_all<float>();
  const std::vector<std::uint8_t> mask =
      cache.root().dataset("logprob_board/mask").read_all<std::uint8_t>();
  ASSERT_EQ(board.size(), 64u);
  // Same batching argument as above: relative to the largest log-prob of the run.
  double largest = 0;
  for (float v : full) largest = std::max(largest, std::abs(static_cast<double>(v)));
  for (int square = 0; square < 64; ++square) {
    const int token = othello::square_to_token(square);
    EXPECT_EQ(mask[square], token < 0 ? 1 : 0);
    const float want = token < 0 ? -13.0f : full[29 * 61 + token];
    EXPECT_NEAR(board[square], want, token < 0 ? 0.0 : kBatching * largest) << square;
  }
  // ... and its figure, the notebook's "Example Log Probs": Blues, zmax 0, centre blank.
  const auto figures = report::read_figures(cache.root());
  ASSERT_EQ(figures.size(), 1u);
  EXPECT_EQ(figures[0].name, "logprob_board");
  EXPECT_EQ(figures[0].kind, "heatmap");
  EXPECT_EQ(figures[0].title, "Example Log Probs");
  const auto trace = nlohmann::json::parse(figures[0].plotly_json).at("data").at(0);
  EXPECT_EQ(trace.at("zmax"), 0.0);
  const auto& z = trace.at("z");
  ASSERT_EQ(z.size(), 8u);
  for (int square = 0; square < 64; ++square) {
    const auto& cell = z.at(square / 8).at(square % 8);
    if (mask[square]) {
      EXPECT_TRUE(cell.is_null()) << square;
    } else {
      EXPECT_NEAR(cell.get<double>(), board[square], 1e-6) << square;
    }
  }
  EXPECT_EQ(cache.root().attrs().get_strings("process_weights").size(), 4u);
}

TEST(InferencePlugin, Float16AndNoProcessing) {
  const test::ReferenceFiles& ref = test::reference("small", 4);
  if (!ref.skip_reason.empty()) GTEST_SKIP() << ref.skip_reason;
  test::ScratchDir dir;
  const auto result = run_othrun(
      dir.path(), experiment(ref / "mingpt.pth",
                             "    n_heads: 4\n    dtype: float16\n    fold_ln: false\n"
                             "    center_writing_weights: false\n    center_unembed: false\n"
                             "    fold_value_biases: false\n    board_moves: 0\n"));
  ASSERT_EQ(result.exit_code, 0) << result.output;
  Store store(dir.path() / "out.h5");
  const Product cache = store.open("cache");
  const Dataset d = cache.root().dataset("blocks.1.hook_resid_pre");
  EXPECT_EQ(d.dtype(), DType::Float16);
  EXPECT_EQ(d.shape(), (std::vector<std::uint64_t>{7, 59, 32}));
  EXPECT_FALSE(cache.root().contains("logprob_board"));
  EXPECT_TRUE(report::read_figures(cache.root()).empty());
  EXPECT_EQ(cache.root().attrs().get_string("model_format"), "mingpt");
}

// Where no GPU is usable, `device: cuda` is refused at validation with the reason `othrun --list`
// notes on the inference line (no CUDA backend built, no driver, or the CUDA runtime's).
TEST(InferencePlugin, CudaDeviceIsRejectedBeforeAnythingRuns) {
  const auto list =
      test::run_command(fmt::format("{} --plugin-path {} --list", OTHRUN_EXE, OTHRUN_PLUGIN_DIR));
  const auto at = list.output.find("\ninference ");
  ASSERT_NE(at, std::string::npos) << list.output;
  const std::string line = list.output.substr(at + 1, list.output.find('\n', at + 1) - at - 1);
  const std::string note = "available (device cuda unavailable: ";
  const auto why = line.find(note);
  if (why == std::string::npos) GTEST_SKIP() << "a GPU is usable here: " << line;
  const std::string reason = line.substr(why + note.size(), line.rfind(") ") - why - note.size());
  ASSERT_FALSE(reason.empty()) << line;
  test::ScratchDir dir;
  const auto result =
      run_othrun(dir.path(), experiment(dir.path() / "none.pth", "    device: cuda\n"), "--check");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find(
                "step 'cache' (inference): 'device': device: cuda cannot run here: " + reason),
            std::string::npos)
      << result.output;
}

TEST(InferencePlugin, BadHookIsRejectedBeforeAnythingRuns) {
  test::ScratchDir dir;
  std::string yaml = experiment(dir.path() / "none.pth", "");
  yaml.replace(yaml.find("post:0"), 6, "poost:0");
  const auto result = run_othrun(dir.path(), yaml, "--check");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("'hooks': 'poost:0': unknown shorthand 'poost'"), std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace othrun::gpt
