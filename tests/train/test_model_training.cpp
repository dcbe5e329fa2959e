// train_model's library: legal-move counting on hand-checked games, loss going down, checkpoint
// resume giving the same weights, and the saved file loading in libothrun_torch and Python torch.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <ATen/Parallel.h>

#include <othrun/othello.hpp>
#include <othrun/pth.hpp>
#include <othrun/torch/hooked_transformer.hpp>
#include <othrun/torch_bridge.hpp>
#include <othrun/train/checkpoint_file.hpp>
#include <othrun/train/gpt.hpp>
#include <othrun/train/model_training.hpp>
#include <othrun/train/synthetic.hpp>

#include <fmt/format.h>

#include "util.hpp"

namespace othrun::train {
namespace {

using othello::square_to_token;
using train_test::TempDir;
using train_test::tiny_config;

// A 60-column game row holding `moves` (squares), padding after.
std::vector<std::int64_t> game_row(std::initializer_list<int> moves) {
  std::vector<std::int64_t> row(60, 0);
  std::size_t t = 0;
  for (int square : moves) row[t++] = square_to_token(square);
  return row;
}

TEST(LegalMoves, HandCheckedPositions) {
  // Black plays C3 (19), flipping D3 (27). White (E4 = 36) then has exactly C2 (18) by the
  // diagonal over D3, C4 (20) by the column over D4 (28), and E2 (34) by the row over E3 (35).
  const auto game = game_row({19, 18});
  std::vector<std::int64_t> tokens = game;
  tokens.insert(tokens.end(), game.begin(), game.end());
  tokens.insert(tokens.end(), game.begin(), game.end());
  tokens.insert(tokens.end(), game.begin(), game.end());
  const std::int64_t n_pos = 59;
  std::vector<std::int64_t> predicted(4 * n_pos, 0);
  predicted[0 * n_pos] = square_to_token(20);  // legal
  predicted[1 * n_pos] = square_to_token(34);  // legal
  predicted[2 * n_pos] = square_to_token(26);  // black's move (D2), not white's: illegal
  predicted[3 * n_pos] = 0;                    // padding: never legal
  const LegalCount count = count_legal_top1(tokens, predicted, n_pos);
  EXPECT_EQ(count.total, 4);  // position 0 of each game; position 1 has no next move
  EXPECT_EQ(count.legal, 2);
}

TEST(LegalMoves, PassIsResolvedFromTheEngine) {
  // Every position of a full random game: the engine's valid moves are all legal predictions.
  const GameRows rows = GameStream(3, true).draw(0, 1);
  othello::Position position = othello::Position::start();
  std::vector<std::int64_t> predicted(59);
  for (int t = 0; t < 59; ++t) {
    position.play(othello::token_to_square(static_cast<int>(rows.tokens[t])));
    predicted[t] = square_to_token(othello::nth_square(position.valid_moves(), 0));
  }
  const LegalCount count = count_legal_top1(rows.tokens, predicted, 59);
  EXPECT_EQ(count.total, 59);
  EXPECT_EQ(count.legal, 59);
}

TEST(GameStream, FullGamesAndCursor) {
  const GameStream stream(11, true);
  const GameRows a = stream.draw(0, 5);
  for (std::int64_t g = 0; g < 5; ++g) EXPECT_NE(a.tokens[g * 60 + 59], 0);
  const GameRows b = stream.draw(0, 3);
  const GameRows c = stream.draw(b.next_cursor, 2);
  EXPECT_TRUE(std::equal(b.tokens.begin(), b.tokens.end(), a.tokens.begin()));
  EXPECT_TRUE(std::equal(c.tokens.begin(), c.tokens.end(), a.tokens.begin() + 180));
}

ModelTrainingOptions tiny_options(std::int64_t steps) {
  ModelTrainingOptions o;
  o.model = tiny_config();
  o.seed = 5;
  o.eval_seed = 6;
  o.batch_games = 8;
  o.steps = steps;
  o.schedule.lr = 3e-3;
  o.schedule.warmup_steps = 3;
  o.log_every = 1;
  o.eval_every = 0;
  o.eval_games = 10;
  o.threads = 1;
  return o;
}

TEST(ModelTraining, LossDecreases) {
  ModelTrainingOptions o = tiny_options(60);
  o.schedule.lr = 1e-2;
  const ModelTrainingResult r = train_model(o);
  ASSERT_EQ(r.curves.loss.size(), 60u);
  ASSERT_TRUE(r.complete);
  EXPECT_NEAR(r.curves.loss.front(), std::log(61.0), 0.3);       // near uniform at initialisation
  EXPECT_LT(r.curves.loss.back(), r.curves.loss.front() - 0.2);  // 4.11 -> about 3.87
  EXPECT_GT(r.final_legal_rate, 0.0);
  EXPECT_EQ(r.curves.eval_step, std::vector<std::int64_t>{60});
}

void expect_same_state(const std::vector<NamedTensor>& a, const std::vector<NamedTensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = a[i].tensor.to_vector<float>(), y = b[i].tensor.to_vector<float>();
    ASSERT_EQ(x.size(), y.size()) << a[i].name;
    for (std::size_t j = 0; j < x.size(); ++j)
      ASSERT_EQ(x[j], y[j]) << a[i].name << "[" << j << "]";
  }
}

TEST(ModelTraining, ResumeGivesTheSameWeights) {
  const ModelTrainingResult straight = train_model(tiny_options(12));
  TempDir dir;
  ModelTrainingOptions o = tiny_options(12);
  o.eval_every = 4;
  o.checkpoint_dir = dir.path() / "ckpt";
  o.checkpoint_every = 4;
  o.stop_after = 10;  // "killed" after step 10: the last checkpoint is step 8
  const ModelTrainingResult cut = train_model(o);
  EXPECT_FALSE(cut.complete);
  EXPECT_TRUE(std::filesystem::exists(checkpoint_path(o.checkpoint_dir, 8)));
  EXPECT_FALSE(std::filesystem::exists(checkpoint_path(o.checkpoint_dir, 0)));
  o.stop_after = -1;
  const ModelTrainingResult resumed = train_model(o);
  EXPECT_TRUE(resumed.complete);
  EXPECT_EQ(resumed.resumed_from, 8);
  EXPECT_EQ(resumed.games_drawn, straight.games_drawn);
  expect_same_state(straight.state, resumed.state);
  EXPECT_EQ(resumed.curves.loss, straight.curves.loss);  // the curve continues, without a seam
  EXPECT_EQ(resumed.curves.eval_step, (std::vector<std::int64_t>{4, 8, 12}));

  // Another configuration ignores these checkpoints and starts afresh.
  o.schedule.lr = 1e-3;
  EXPECT_EQ(train_model(o).resumed_from, 0);
}

// Exact equality is the point here: shards computed with single-threaded kernels and summed in
// shard order give the same bits whichever thread computes which shard.
TEST(ModelTraining, ThreadCountChangesNoBit) {
  ModelTrainingOptions o = tiny_options(6);
  o.batch_shards = 3;  // shards of 2, 3 and 3 games
  o.eval_every = 3;
  o.eval_batch_games = 3;  // 4 evaluation batches, also run in parallel
  const ModelTrainingResult one = train_model(o);
  for (const int threads : {2, 3, 5}) {
    o.threads = threads;
    const ModelTrainingResult many = train_model(o);
    expect_same_state(one.state, many.state);
    EXPECT_EQ(one.curves.loss, many.curves.loss) << threads;
    EXPECT_EQ(one.curves.grad_norm, many.curves.grad_norm) << threads;
    EXPECT_EQ(one.curves.eval_loss, many.curves.eval_loss) << threads;
    EXPECT_EQ(one.curves.eval_legal_rate, many.curves.eval_legal_rate) << threads;
  }
  // More shards than games: one shard per game, as batch_shards = batch_games.
  o.batch_shards = 8;
  const ModelTrainingResult per_game = train_model(o);
  o.batch_shards = 100;
  expect_same_state(per_game.state, train_model(o).state);
}

// Another shard count sums the same per-target terms in another order: the loss and gradient
// are the batch's, up to float32 rounding. The loss is a mean of 472 positive terms (8 games x
// 59 targets): reassociating the sum moves it by at most 472 * 2^-24 = 2.8e-5 relative. Each
// gradient element is such a sum of per-target terms of either sign, and the norm gathers
// ~2,000 of them; 1e-3 relative leaves room for cancellation and still tells a wrongly scaled
// shard (each shard's mean instead of its share of the batch's: 8x the norm) from a right one.
TEST(ModelTraining, ShardsAddUpToTheBatch) {
  ModelTrainingOptions o = tiny_options(1);
  o.batch_shards = 1;
  const ModelTrainingResult whole = train_model(o);
  o.batch_shards = 8;
  o.threads = 2;
  const ModelTrainingResult sharded = train_model(o);
  ASSERT_EQ(whole.curves.loss.size(), 1u);
  ASSERT_EQ(sharded.curves.loss.size(), 1u);
  EXPECT_NEAR(sharded.curves.loss[0], whole.curves.loss[0], 1e-4 * whole.curves.loss[0]);
  EXPECT_NEAR(sharded.curves.grad_norm[0], whole.curves.grad_norm[0],
              1e-3 * whole.curves.grad_norm[0]);
}

TEST(ModelTraining, ResumeOnAnotherThreadCount) {
  const ModelTrainingResult straight = train_model(tiny_options(8));
  TempDir dir;
  ModelTrainingOptions o = tiny_options(8);
  o.checkpoint_dir = dir.path() / "ckpt";
  o.checkpoint_every = 4;
  o.stop_after = 6;
  o.threads = 2;
  EXPECT_FALSE(train_model(o).complete);
  o.stop_after = -1;
  o.threads = 1;
  const ModelTrainingResult resumed = train_model(o);
  EXPECT_EQ(resumed.resumed_from, 4);
  expect_same_state(straight.state, resumed.state);
}

// Training holds LibTorch's and OpenBLAS's pools at one thread and gives them back as they were.
TEST(ModelTraining, RestoresTheLibrariesThreadCounts) {
  using Get = int (*)();
  using Set = void (*)(int);
  void* openblas = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
  const auto get =
      openblas ? reinterpret_cast<Get>(::dlsym(openblas, "openblas_get_num_threads")) : nullptr;
  const auto set =
      openblas ? reinterpret_cast<Set>(::dlsym(openblas, "openblas_set_num_threads")) : nullptr;
  const int aten_before = at::get_num_threads();
  at::set_num_threads(3);
  if (set) set(3);
  ModelTrainingOptions o = tiny_options(1);
  o.threads = 2;
  train_model(o);
  EXPECT_EQ(at::get_num_threads(), 3);
  if (get) {
    EXPECT_EQ(get(), 3);
  }
  at::set_num_threads(aten_before);
  if (openblas) ::dlclose(openblas);
}

TEST(ModelTraining, RefusesZeroShards) {
  ModelTrainingOptions o = tiny_options(1);
  o.batch_shards = 0;
  try {
    train_model(o);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("batch_shards"), std::string::npos) << e.what();
  }
}

TEST(ModelTraining, InitFromStartsFromThoseWeights) {
  ModelTrainingOptions first_options = tiny_options(30);
  first_options.schedule.lr = 1e-2;
  const ModelTrainingResult first = train_model(first_options);
  TempDir dir;
  save_pth(dir.path() / "first.pth", make_state_dict(first.state));

  // With lr 0 nothing moves: the result is the file's weights, bit for bit.
  ModelTrainingOptions o = tiny_options(2);
  o.init_from = dir.path() / "first.pth";
  o.schedule.lr = 0;
  const ModelTrainingResult frozen = train_model(o);
  expect_same_state(first.state, frozen.state);
  // ... and its first loss is the trained model's, below that of a random initialisation.
  ModelTrainingOptions random = tiny_options(2);
  random.schedule.lr = 0;
  EXPECT_LT(frozen.curves.loss.front(), train_model(random).curves.loss.front() - 0.05);

  // A file of another configuration is refused, naming the file.
  o.model.d_mlp *= 2;
  try {
    train_model(o);
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("first.pth"), std::string::npos) << e.what();
  }
}

// Saves a trained tiny model and compares libothrun_torch's logits with this module's.
TEST(ModelTraining, InferenceModelReproducesLogits) {
  const ModelTrainingResult r = train_model(tiny_options(5));
  TempDir dir;
  const auto path = dir.path() / "model.pth";
  save_pth(path, make_state_dict(r.state));

  const Gpt mine(tiny_config(), r.state, "trained");
  const GameRows games = GameStream(9, false).draw(0, 4);
  const at::Tensor tokens =
      at::from_blob(const_cast<std::int64_t*>(games.tokens.data()), {4, 60}, at::kLong)
          .narrow(1, 0, 59)
          .contiguous();
  at::Tensor expected;
  {
    at::NoGradGuard no_grad;
    expected = mine.forward(tokens);
  }
  gpt::RunRequest request;
  gpt::LoadOptions plain;
  plain.process = gpt::ProcessOptions::none();
  request.logits = gpt::LogitsOutput::Logits;
  const auto raw = gpt::HookedTransformer::from_file(path, plain);
  EXPECT_EQ(raw.config(), tiny_config());
  const at::Tensor logits = to_torch(raw.run(from_torch(tokens), request).at("logits"));
  EXPECT_LT((logits - expected).abs().max().item<double>(), 1e-5);

  request.logits = gpt::LogitsOutput::LogProbs;
  const auto processed = gpt::HookedTransformer::from_file(path, {});
  const at::Tensor log_probs = to_torch(processed.run(from_torch(tokens), request).at("log_probs"));
  EXPECT_LT((log_probs - at::log_softmax(expected, -1)).abs().max().item<double>(), 1e-5);
}

TEST(ModelTraining, PythonTorchLoadsTheModel) {
  if (!train_test::python_has_torch()) GTEST_SKIP() << "no /usr/bin/python3 with torch";
  const ModelTrainingResult r = train_model(tiny_options(2));
  TempDir dir;
  const auto path = dir.path() / "model.pth";
  save_pth(path, make_state_dict(r.state));
  double sum = 0;
  for (const auto& t : r.state) {
    for (double v : t.tensor.to_vector<double>()) sum += v;
  }
  const auto c = tiny_config();
  std::string output;
  const int rc =
      train_test::run_python("check_model_pth.py",
                             fmt::format("{} {} {} {} {} {} {:.17g}", path.string(), c.n_layers,
                                         c.d_model, c.n_heads, c.d_head, c.d_mlp, sum),
                             output);
  EXPECT_EQ(rc, 0) << output;
}

}  // namespace
}  // namespace othrun::train
