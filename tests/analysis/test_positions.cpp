// Position-aware reading: a sliced cache (inference `positions: 5:54`, column j = position 5 + j)
// gives every analysis plugin the same numbers as the full cache restricted to positions 5..53,
// rows labelled with their real game and position; products without the position attributes are
// refused. Counts and selected examples are compared exactly; float results computed by separate
// float32 GEMMs over different row counts with a bound derived beside each comparison.
#include "harness.hpp"

#include <othrun/analysis/class_stats.hpp>
#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/analysis/stats.hpp>
#include <othrun/error.hpp>
#include <othrun/report.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>

using namespace othrun;
using namespace othrun::analysis_test;

namespace {

constexpr std::uint64_t kGames = 40, kFull = 59, kDIn = 16, kD8 = 8;
constexpr std::int64_t kFirst = 5, kStop = 54;  // the slice docs/inference.md suggests
constexpr std::uint64_t kSliced = kStop - kFirst;
const std::string kHook = "blocks.6.hook_resid_pre", kPost = "blocks.6.hook_resid_post";

std::size_t at(std::uint64_t g, std::int64_t t, std::uint64_t width, std::uint64_t positions) {
  return (g * positions + static_cast<std::uint64_t>(t)) * width;
}

// The columns of positions [kFirst, kStop) of a full [games, 59, width] cache.
std::vector<float> slice(const std::vector<float>& full, std::uint64_t width) {
  std::vector<float> out;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    const float* row = &full[at(g, kFirst, width, kFull)];
    out.insert(out.end(), row, row + kSliced * width);
  }
  return out;
}

std::array<std::int8_t, 64> board_at(const games::GameBatch& batch, std::uint64_t g, std::int64_t t,
                                     games::Frame frame = games::Frame::MineTheirs) {
  std::array<std::int8_t, 64> board{};
  batch.board(g, static_cast<int>(t), frame, board, othello::MineTheirs::Real);
  return board;
}

template <class T = double>
std::vector<T> read_all(const Store& store, const std::string& label, const std::string& path) {
  return store.open(label).root().dataset(path).read_all<T>();
}

class SlicedCache : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<Store>(dir_.path() / "run.h5");
    write_games(*store_, "games", kGames, 99);
    {
      const Product product = store_->open("games");
      batch_ = games::GamesReader(product).read(0, kGames);
    }
    // Activations with board signal (so features and probes correlate with squares).
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0, 1);
    full_.resize(kGames * kFull * kDIn);
    for (std::uint64_t g = 0; g < kGames; ++g) {
      for (std::int64_t t = 0; t < static_cast<std::int64_t>(kFull); ++t) {
        const auto board = board_at(batch_, g, t);
        for (std::uint64_t d = 0; d < kDIn; ++d)
          full_[at(g, t, kDIn, kFull) + d] = noise(rng) + 1.5f * board[d * 3 % 64];
      }
    }
    full8_.resize(kGames * kFull * kD8);
    for (auto& v : full8_) v = noise(rng);
    write_activations(*store_, "full", kHook, full_, kGames, kFull, kDIn);
    write_activations(*store_, "sliced", kHook, slice(full_, kDIn), kGames, kSliced, kDIn, false,
                      kFirst);
    write_activations(*store_, "full8", kPost, full8_, kGames, kFull, kD8);
    write_activations(*store_, "sliced8", kPost, slice(full8_, kD8), kGames, kSliced, kD8, false,
                      kFirst);
  }

  // Unit `index` of the full cache at positions [kFirst, kStop), game-major, and where each is.
  void restricted_unit(std::uint64_t index, std::vector<float>& values,
                       std::vector<analysis::RowId>& rows) const {
    for (std::uint64_t g = 0; g < kGames; ++g) {
      for (std::int64_t t = kFirst; t < kStop; ++t) {
        values.push_back(full_[at(g, t, kDIn, kFull) + index]);
        rows.push_back({g, t});
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  games::GameBatch batch_;
  std::vector<float> full_, full8_;
};

// The mean board (mine/theirs, real) over `rows`, as max_activation computes it.
std::vector<double> mean_board(const games::GameBatch& batch,
                               const std::vector<analysis::RowId>& rows) {
  std::vector<double> mean(64, 0.0);
  for (const auto& r : rows) {
    const auto board = board_at(batch, r.game, r.position);
    for (std::size_t s = 0; s < 64; ++s) mean[s] += board[s];
  }
  for (auto& m : mean) m /= static_cast<double>(rows.size());
  return mean;
}

}  // namespace

// Issue 13's failure: max_activation on a 5:54 cache labelled column j as position j and so
// averaged the boards 5 moves early. Here the full cache is restricted by masking: for `top: k`
// rows outside 5..53 set to -1e30 are never selected nor > 0 (active_moves), which is exactly
// restricting the rows. Examples and boards are sums of integers: compared exactly.
TEST_F(SlicedCache, MaxActivationMatchesFullCacheRestricted) {
  std::vector<float> masked = full_;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::int64_t t = 0; t < static_cast<std::int64_t>(kFull); ++t) {
      if (t >= kFirst && t < kStop) continue;
      std::fill_n(&masked[at(g, t, kDIn, kFull)], kDIn, -1e30f);
    }
  }
  write_activations(*store_, "masked", kHook, masked, kGames, kFull, kDIn);
  const std::map<std::string, Value> unit{
      {"index", std::int64_t{3}}, {"top", std::string("k")}, {"k", std::int64_t{40}}};
  auto with = [&](const std::string& acts) {
    auto v = unit;
    v["activations"] = acts + ":" + kHook;
    return v;
  };
  run_plugin(*store_, "max_activation", "max_sliced", with("sliced"));
  run_plugin(*store_, "max_activation", "max_full", with("masked"));

  for (const char* name : {"examples/game", "examples/position", "examples/value", "mean_board",
                           "mean_abs_board", "active_moves/counts"}) {
    EXPECT_EQ(read_all(*store_, "max_sliced", name), read_all(*store_, "max_full", name)) << name;
  }
  const Product sliced = store_->open("max_sliced");
  EXPECT_EQ(sliced.root().group("active_moves").attrs().get_int("active"),
            store_->open("max_full").root().group("active_moves").attrs().get_int("active"));
  EXPECT_EQ(sliced.root().attrs().get_int("positions_start"), kFirst);
  EXPECT_EQ(sliced.root().attrs().get_int("positions_stop"), kStop);
  const auto games = read_all<std::int64_t>(*store_, "max_sliced", "examples/game");
  const auto positions = read_all<std::int64_t>(*store_, "max_sliced", "examples/position");
  ASSERT_EQ(positions.size(), 40u);
  for (std::int64_t t : positions) {
    EXPECT_GE(t, kFirst);
    EXPECT_LT(t, kStop);
  }
  // What the misaligned reading gave: the boards at column j instead of position 5 + j. The test
  // data make that visibly different, so the comparisons above can fail.
  std::vector<analysis::RowId> shifted;
  for (std::size_t i = 0; i < games.size(); ++i)
    shifted.push_back({static_cast<std::uint64_t>(games[i]), positions[i] - kFirst});
  const auto wrong = mean_board(batch_, shifted);
  const auto right = read_all(*store_, "max_sliced", "mean_board");
  double diff = 0;
  for (std::size_t s = 0; s < 64; ++s) diff = std::max(diff, std::abs(wrong[s] - right[s]));
  EXPECT_GT(diff, 0.1);
}

// The notebook rule (values > quantile 0.9) over the rows of positions 5..53 only, recomputed
// here from the full cache: the threshold and selection depend on exactly which rows are read.
TEST_F(SlicedCache, MaxActivationQuantileOverRestrictedRows) {
  run_plugin(*store_, "max_activation", "max_q",
             {{"activations", std::string("sliced:") + kHook},
              {"index", std::int64_t{5}},
              {"quantile", 0.9}});
  std::vector<float> v;
  std::vector<analysis::RowId> rows;
  restricted_unit(5, v, rows);
  const float threshold = analysis::quantile_linear(v, 0.9);
  std::vector<std::size_t> sel;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (v[i] > threshold) sel.push_back(i);
  std::stable_sort(sel.begin(), sel.end(), [&](auto a, auto b) { return v[a] > v[b]; });
  std::vector<std::int64_t> game, position;
  std::vector<double> value;
  std::vector<analysis::RowId> selected;
  for (std::size_t i : sel) {
    game.push_back(static_cast<std::int64_t>(rows[i].game));
    position.push_back(rows[i].position);
    value.push_back(v[i]);
    selected.push_back(rows[i]);
  }
  std::vector<double> counts(64, 0);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] > 0)
      ++counts[static_cast<std::size_t>(batch_.squares[games::GameBatch::index(
          rows[i].game, static_cast<int>(rows[i].position))])];
  }
  const Product p = store_->open("max_q");
  EXPECT_EQ(p.root().attrs().get_float("threshold"), static_cast<double>(threshold));
  EXPECT_EQ(p.root().attrs().get_int("rows"), static_cast<std::int64_t>(kGames * kSliced));
  EXPECT_EQ(read_all<std::int64_t>(*store_, "max_q", "examples/game"), game);
  EXPECT_EQ(read_all<std::int64_t>(*store_, "max_q", "examples/position"), position);
  EXPECT_EQ(read_all(*store_, "max_q", "examples/value"), value);
  // Sums of small integers are exact in double: the mean is the same in any order.
  EXPECT_EQ(read_all(*store_, "max_q", "mean_board"), mean_board(batch_, selected));
  EXPECT_EQ(read_all(*store_, "max_q", "active_moves/counts"), counts);
}

// Histogram, per-label summary and AUROC over the restricted rows, labelled at the real position.
TEST_F(SlicedCache, NeuronSpectrumMatchesFullCacheRestricted) {
  std::vector<float> v;
  std::vector<analysis::RowId> rows;
  restricted_unit(3, v, rows);
  struct Case {
    std::string label, square, split_by;
  };
  for (const Case& c :
       {Case{"spec_state", "19", "square_state"}, Case{"spec_move", "C4", "move_played"}}) {
    run_plugin(*store_, "neuron_spectrum", c.label,
               {{"activations", std::string("sliced:") + kHook},
                {"index", std::int64_t{3}},
                {"split_by", c.split_by},
                {"square", c.square},
                {"state", std::string("mine")},
                {"bins", std::int64_t{30}}});
    const int square = c.split_by == "square_state" ? 19 : 20;  // C4 = row 2 * 8 + col 4
    std::vector<std::uint8_t> labels;
    for (const auto& r : rows) {
      if (c.split_by == "square_state") {
        labels.push_back(board_at(batch_, r.game, r.position)[19] == 1);
      } else {
        labels.push_back(
            batch_.squares[games::GameBatch::index(r.game, static_cast<int>(r.position))] ==
            square);
      }
    }
    ASSERT_GT(std::count(labels.begin(), labels.end(), 1), 0) << c.label;
    const auto all = analysis::summarize(v);
    analysis::Histogram hist[2] = {analysis::Histogram(all.min, all.max, 30),
                                   analysis::Histogram(all.min, all.max, 30)};
    std::vector<float> group[2];
    for (std::size_t i = 0; i < v.size(); ++i) {
      hist[labels[i]].add(v[i]);
      group[labels[i]].push_back(v[i]);
    }
    EXPECT_EQ(read_all(*store_, c.label, "edges"), hist[0].edges()) << c.label;
    auto counts = hist[0].counts();
    counts.insert(counts.end(), hist[1].counts().begin(), hist[1].counts().end());
    EXPECT_EQ(read_all(*store_, c.label, "counts"), counts) << c.label;
    const auto summary = read_all(*store_, c.label, "summary");
    for (int l = 0; l < 2; ++l) {
      const auto s = analysis::summarize(group[l]);
      const double want[5] = {static_cast<double>(s.count), s.mean, s.std, s.min, s.max};
      for (int k = 0; k < 5; ++k) {
        // The same float32 values in the same order: equal up to a different double summation
        // order over N < 2000 terms, N * DBL_EPSILON * max|v| < 1e-11 for |v| < 20.
        EXPECT_NEAR(summary[static_cast<std::size_t>(l * 5 + k)], want[k], 1e-11)
            << c.label << " label " << l << " field " << k;
      }
    }
    // Exact AUROC from ranks: the same values and labels give the same rank sums (integers and
    // halves, exact in double).
    EXPECT_EQ(store_->open(c.label).root().attrs().get_float("auroc"),
              analysis::exact_auroc(v, labels))
        << c.label;
  }
}

// Scores and argmax per (game, position, square), accuracies per square, class and position.
TEST_F(SlicedCache, ProbeProjectionMatchesFullCacheRestricted) {
  for (const std::string acts : {"sliced8", "full8"}) {
    run_plugin(*store_, "probe_projection", "probe_" + acts,
               {{"activations", acts + ":" + kPost},
                {"probe", fixture("probe.pth").string()},
                {"store_scores", true},
                {"accuracy_positions", std::to_string(kFirst) + ":" + std::to_string(kStop)}});
  }
  const analysis::Probe probe = analysis::load_probe(fixture("probe.pth"), false);
  ASSERT_EQ(probe.d_model, static_cast<std::int64_t>(kD8));
  const auto s_sliced = read_all(*store_, "probe_sliced8", "scores");
  const auto s_full = read_all(*store_, "probe_full8", "scores");
  const auto a_sliced = read_all(*store_, "probe_sliced8", "argmax");
  const auto a_full = read_all(*store_, "probe_full8", "argmax");
  ASSERT_EQ(s_sliced.size(), kGames * kSliced * 192);
  ASSERT_EQ(a_full.size(), kGames * kFull * 64);
  // Each score is a float32 dot product of K = 8 terms, within K * u * sum_k |x_k w_k| of the
  // exact value (u = FLT_EPSILON / 2) whatever the GEMM kernel or row count; two of them differ by
  // at most K * FLT_EPSILON * that sum (x2 for margin). A cell whose best two scores are closer
  // than twice this may take either argmax: such cells are counted and allowed to differ.
  std::vector<double> sq_unsure(64), sq_n(64), pos_unsure(kSliced), pos_n(kSliced);
  double unsure = 0;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::int64_t t = kFirst; t < kStop; ++t) {
      const auto j = static_cast<std::uint64_t>(t - kFirst);
      const float* x = &full8_[at(g, t, kD8, kFull)];
      for (std::size_t sq = 0; sq < 64; ++sq) {
        const std::size_t cs = ((g * kSliced + j) * 64 + sq), cf = (at(g, t, 1, kFull) * 64 + sq);
        double bound = 0;
        for (int c = 0; c < 3; ++c) {
          double sum = 0;
          for (std::uint64_t k = 0; k < kD8; ++k)
            sum += std::abs(double{x[k]} *
                            probe.weight(static_cast<std::int64_t>(k), static_cast<int>(sq), c));
          const double b = 2 * kD8 * FLT_EPSILON * sum;
          bound = std::max(bound, b);
          ASSERT_LE(std::abs(s_sliced[cs * 3 + c] - s_full[cf * 3 + c]), b)
              << "game " << g << " position " << t << " square " << sq << " class " << c;
        }
        std::array<double, 3> v{s_full[cf * 3], s_full[cf * 3 + 1], s_full[cf * 3 + 2]};
        std::sort(v.begin(), v.end());
        const bool tie = v[2] - v[1] <= 2 * bound;
        if (!tie) {
          ASSERT_EQ(a_sliced[cs], a_full[cf]) << "game " << g << " position " << t << " sq " << sq;
        }
        sq_unsure[sq] += tie, sq_n[sq] += 1, pos_unsure[j] += tie, pos_n[j] += 1, unsure += tie;
      }
    }
  }
  const auto per_sq_s = read_all(*store_, "probe_sliced8", "accuracy/per_square");
  const auto per_sq_f = read_all(*store_, "probe_full8", "accuracy/per_square");
  for (std::size_t sq = 0; sq < 64; ++sq)
    EXPECT_NEAR(per_sq_s[sq], per_sq_f[sq], sq_unsure[sq] / sq_n[sq]) << "square " << sq;
  const auto per_pos_s = read_all(*store_, "probe_sliced8", "accuracy/per_position");
  const auto per_pos_f = read_all(*store_, "probe_full8", "accuracy/per_position");
  ASSERT_EQ(per_pos_s.size(), kSliced);  // one per stored position
  ASSERT_EQ(per_pos_f.size(), kFull);
  for (std::size_t j = 0; j < kSliced; ++j)
    EXPECT_NEAR(per_pos_s[j], per_pos_f[kFirst + j], pos_unsure[j] / pos_n[j]) << "position " << j;
  std::vector<std::int64_t> stored(kSliced);
  std::iota(stored.begin(), stored.end(), kFirst);
  EXPECT_EQ(read_all<std::int64_t>(*store_, "probe_sliced8", "accuracy/positions"), stored);
  EXPECT_EQ(read_all(*store_, "probe_sliced8", "accuracy/count_per_class"),
            read_all(*store_, "probe_full8", "accuracy/count_per_class"));
  const auto cls_n = read_all(*store_, "probe_full8", "accuracy/count_per_class");
  const auto cls_s = read_all(*store_, "probe_sliced8", "accuracy/per_class");
  const auto cls_f = read_all(*store_, "probe_full8", "accuracy/per_class");
  for (std::size_t c = 0; c < 3; ++c) EXPECT_NEAR(cls_s[c], cls_f[c], unsure / cls_n[c]) << c;
  const double all = static_cast<double>(kGames * kSliced * 64);
  EXPECT_NEAR(store_->open("probe_sliced8").root().group("accuracy").attrs().get_float("overall"),
              store_->open("probe_full8").root().group("accuracy").attrs().get_float("overall"),
              unsure / all);
  const Product p = store_->open("probe_sliced8");
  EXPECT_EQ(p.root().dataset("argmax").attrs().get_int("positions_start"), kFirst);
  EXPECT_EQ(p.root().dataset("scores").attrs().get_int("positions_stop"), kStop);
  // The figure's x axis: model positions 5..53.
  for (const report::Figure& f : report::read_figures(p.root())) {
    if (f.name != "accuracy_by_position") continue;
    const auto x = nlohmann::json::parse(f.plotly_json).at("data").at(0).at("x");
    ASSERT_EQ(x.size(), kSliced);
    for (std::size_t j = 0; j < kSliced; ++j) EXPECT_EQ(x[j].get<double>(), kFirst + j);
  }
  // Asking for positions the cache does not hold is an error, not an all-NaN result.
  EXPECT_THROW(run_plugin(*store_, "probe_projection", "probe_outside",
                          {{"activations", "sliced8:" + kPost},
                           {"probe", fixture("probe.pth").string()},
                           {"accuracy_positions", std::string("0:5")}}),
               ConfigError);
}

namespace {

// Every row of a features product, dense [games * positions, d_sae].
std::vector<float> dense_features(const Store& store, const std::string& label,
                                  analysis::PositionSpan* span = nullptr) {
  const Product p = store.open(label);
  const analysis::FeatureReader reader(p);
  if (span) *span = reader.span();
  return reader.read(0, reader.games()).to_dense();
}

Product begin_product(Store& store, const std::string& label, const std::string& plugin,
                      const std::string& kind) {
  Provenance prov;
  prov.plugin = plugin;
  prov.kinds = {kind};
  return store.begin(label, prov);
}

// The message of the DataError that `run` throws ("" when none).
template <class F>
std::string data_error(F run) {
  try {
    run();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// sae_encode: row (g, j) of the sliced features is row (g, 5 + j) of the full ones, and the
// features product carries positions 5..54 forward; metrics over the restricted rows.
TEST_F(SlicedCache, SaeEncodeMatchesFullCacheRestricted) {
  const std::string sae_file = fixture("sae_training.pt").string();
  run_plugin(*store_, "sae_encode", "feat_full",
             {{"activations", std::string("full:") + kHook}, {"sae", sae_file}});
  run_plugin(*store_, "sae_encode", "feat_sliced",
             {{"activations", std::string("sliced:") + kHook}, {"sae", sae_file}});
  analysis::PositionSpan span;
  const auto sliced = dense_features(*store_, "feat_sliced", &span);
  const auto full = dense_features(*store_, "feat_full");
  EXPECT_EQ(span, (analysis::PositionSpan{kFirst, static_cast<std::int64_t>(kSliced)}));
  const analysis::Sae sae = analysis::load_sae(fixture("sae_training.pt"));
  ASSERT_EQ(sae.architecture, analysis::SaeArchitecture::Standard);
  ASSERT_EQ(sae.d_in, static_cast<std::int64_t>(kDIn));
  const auto d_sae = static_cast<std::size_t>(sae.d_sae);
  ASSERT_EQ(sliced.size(), kGames * kSliced * d_sae);

  // An activation relu((x - b_dec) W_enc + b_enc) is a float32 dot of K = 16 terms plus two
  // roundings: within (K + 2) * u * S of exact, S = sum_k |x_k - b_dec_k| |W_kf| + |b_enc_f|, u =
  // FLT_EPSILON / 2; two computations differ by at most (K + 2) * FLT_EPSILON * S (x2 margin).
  // A pre-activation within that of 0 may fire in one and not the other: counted per feature.
  std::vector<double> bound(sliced.size());
  std::vector<std::uint64_t> unsure(d_sae, 0), fired_ref(d_sae, 0);
  std::uint64_t nnz_ref = 0;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::int64_t t = kFirst; t < kStop; ++t) {
      const auto rs = g * kSliced + static_cast<std::uint64_t>(t - kFirst), rf = g * kFull + t;
      const float* x = &full_[at(g, t, kDIn, kFull)];
      for (std::size_t f = 0; f < d_sae; ++f) {
        double h = sae.b_enc[f], s = std::abs(double{sae.b_enc[f]});
        for (std::size_t k = 0; k < kDIn; ++k) {
          const double xc = double{x[k]} - sae.b_dec[k];
          h += xc * sae.W_enc[k * d_sae + f];
          s += std::abs(xc * sae.W_enc[k * d_sae + f]);
        }
        const double b = 2 * (kDIn + 2) * FLT_EPSILON * s;
        bound[rs * d_sae + f] = b;
        ASSERT_LE(std::abs(sliced[rs * d_sae + f] - full[rf * d_sae + f]), b)
            << "game " << g << " position " << t << " feature " << f;
        unsure[f] += std::abs(h) <= b;
        fired_ref[f] += full[rf * d_sae + f] > 0;
        nnz_ref += full[rf * d_sae + f] > 0;
      }
    }
  }
  const Product p = store_->open("feat_sliced");
  const auto m = p.root().group("metrics").attrs();
  const auto rows = static_cast<double>(kGames * kSliced);
  EXPECT_EQ(m.get_int("rows"), static_cast<std::int64_t>(rows));
  const auto fired = read_all<std::int64_t>(*store_, "feat_sliced", "metrics/fired");
  std::uint64_t all_unsure = 0;
  for (std::size_t f = 0; f < d_sae; ++f) {
    EXPECT_LE(std::abs(static_cast<double>(fired[f]) - static_cast<double>(fired_ref[f])),
              static_cast<double>(unsure[f]))
        << "feature " << f;
    all_unsure += unsure[f];
  }
  // l0 = nnz / rows in double: exact counts up to the unsure ones, plus one rounding.
  EXPECT_NEAR(m.get_float("l0"), static_cast<double>(nnz_ref) / rows,
              static_cast<double>(all_unsure) / rows + 1e-12);

  // mse against the full cache's restricted rows reconstructed here: a reconstruction element
  // moves by at most delta = sum_f bound_f |W_dec[f, k]| (the activations) + (d_sae + 2) *
  // FLT_EPSILON * (sum_f |a_f W_dec[f, k]| + |b_dec_k|) (the decode GEMM), so (out - x)^2 by at
  // most 2 |out - x| delta + delta^2.
  const std::vector<float> x = slice(full_, kDIn);
  std::vector<float> a(sliced.size()), out(x.size());
  sae.encode(x.data(), static_cast<std::int64_t>(rows), a.data());
  sae.decode(a.data(), static_cast<std::int64_t>(rows), out.data());
  double sse = 0, sse_bound = 0;
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    for (std::size_t k = 0; k < kDIn; ++k) {
      double delta = 0, mag = std::abs(double{sae.b_dec[k]});
      for (std::size_t f = 0; f < d_sae; ++f) {
        const double w = std::abs(double{sae.W_dec[f * kDIn + k]});
        delta += bound[r * d_sae + f] * w;
        mag += std::abs(double{a[r * d_sae + f]}) * w;
      }
      delta += (static_cast<double>(d_sae) + 2) * FLT_EPSILON * mag;
      const double e = double{out[r * kDIn + k]} - x[r * kDIn + k];
      sse += e * e;
      sse_bound += 2 * std::abs(e) * delta + delta * delta;
    }
  }
  const double n = rows * kDIn;
  EXPECT_NEAR(m.get_float("mse"), sse / n, sse_bound / n + 1e-12 * sse / n);

  // metric_positions: the full cache's metrics over positions 5..53 are those of the same rows,
  // within the same bounds (its activations come from other GEMM shapes, as the sliced run's do);
  // the features and their fired counts still cover every row.
  run_plugin(*store_, "sae_encode", "feat_full_5_54",
             {{"activations", std::string("full:") + kHook},
              {"sae", sae_file},
              {"metric_positions", std::string("5:54")}});
  const Product restricted = store_->open("feat_full_5_54");
  const auto rm = restricted.root().group("metrics").attrs();
  EXPECT_EQ(rm.get_string("positions"), "5:54");
  EXPECT_EQ(rm.get_int("rows"), static_cast<std::int64_t>(rows));
  EXPECT_NEAR(rm.get_float("mse"), sse / n, sse_bound / n + 1e-12 * sse / n);
  EXPECT_NEAR(rm.get_float("l0"), static_cast<double>(nnz_ref) / rows,
              static_cast<double>(all_unsure) / rows + 1e-12);
  const auto all_fired = read_all<std::int64_t>(*store_, "feat_full_5_54", "metrics/fired");
  const auto full_fired = read_all<std::int64_t>(*store_, "feat_full", "metrics/fired");
  EXPECT_EQ(all_fired, full_fired);
  EXPECT_EQ(store_->open("feat_full").root().group("metrics").attrs().get_string("positions"),
            "all");
  EXPECT_THROW(run_plugin(*store_, "sae_encode", "feat_none",
                          {{"activations", std::string("sliced:") + kHook},
                           {"sae", sae_file},
                           {"metric_positions", std::string("0:3")}}),
               std::exception);

  // max_activation of a feature: the same examples, at real positions, as the full features'
  // restricted rows. Compared exactly where the order cannot flip (gaps above the bounds).
  run_plugin(*store_, "max_activation", "max_feature",
             {{"unit", std::string("feature")},
              {"features", std::string("feat_sliced")},
              {"index", std::int64_t{2}},
              {"top", std::string("k")},
              {"k", std::int64_t{25}}});
  std::vector<std::size_t> order(static_cast<std::size_t>(rows));
  std::iota(order.begin(), order.end(), 0);
  auto value = [&](std::size_t r) {
    return full[((r / kSliced) * kFull + kFirst + r % kSliced) * d_sae + 2];
  };
  std::stable_sort(order.begin(), order.end(), [&](auto l, auto r) { return value(l) > value(r); });
  double max_bound = 0;
  for (std::size_t i = 0; i < 26; ++i) max_bound = std::max(max_bound, bound[order[i] * d_sae + 2]);
  for (std::size_t i = 0; i < 25; ++i) {
    ASSERT_GT(value(order[i]) - value(order[i + 1]), 2 * max_bound)
        << "test data: the top 26 values of feature 2 must be separated beyond rounding";
  }
  const auto games = read_all<std::int64_t>(*store_, "max_feature", "examples/game");
  const auto positions = read_all<std::int64_t>(*store_, "max_feature", "examples/position");
  ASSERT_EQ(games.size(), 25u);
  for (std::size_t i = 0; i < 25; ++i) {
    EXPECT_EQ(games[i], static_cast<std::int64_t>(order[i] / kSliced)) << i;
    EXPECT_EQ(positions[i], kFirst + static_cast<std::int64_t>(order[i] % kSliced)) << i;
  }
}

// sae_correlation on features of positions 5..53: statistics of the full features' rows there,
// each labelled with the board at its real position, recomputed here by plain counting.
TEST_F(SlicedCache, SaeCorrelationMatchesFullCacheRestricted) {
  run_plugin(*store_, "sae_encode", "feat_full",
             {{"activations", std::string("full:") + kHook},
              {"sae", fixture("sae_training.pt").string()}});
  const auto full = dense_features(*store_, "feat_full");
  const std::size_t d_sae = full.size() / (kGames * kFull);
  // The restricted rows bit for bit, written as a features product of positions [5, 54).
  std::vector<float> restricted;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    const float* row = &full[at(g, kFirst, d_sae, kFull)];
    restricted.insert(restricted.end(), row, row + kSliced * d_sae);
  }
  {
    Product product = begin_product(*store_, "feat_copy", "sae_encode", "features");
    Group group = product.root().create_group("features");
    analysis::FeatureWriter writer(group, static_cast<std::int64_t>(d_sae),
                                   {kFirst, static_cast<std::int64_t>(kSliced)}, false);
    analysis::SparseRows rows;
    rows.cols = static_cast<std::int64_t>(d_sae);
    rows.append_dense(restricted.data(), static_cast<std::int64_t>(kGames * kSliced));
    writer.append(rows);
    writer.finish(kGames);
    store_->commit(std::move(product));
  }
  run_plugin(*store_, "sae_correlation", "corr", {{"features", std::string("feat_copy")}});

  std::vector<double> class_count(192), fired(d_sae), fired_class(d_sae * 192), sum_act(d_sae);
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::int64_t t = kFirst; t < kStop; ++t) {
      const auto board = board_at(batch_, g, t);
      const float* a = &full[at(g, t, d_sae, kFull)];
      for (std::size_t s = 0; s < 64; ++s) class_count[s * 3 + analysis::state_code(board[s])] += 1;
      for (std::size_t f = 0; f < d_sae; ++f) {
        if (!(a[f] > 0)) continue;
        fired[f] += 1;
        sum_act[f] += a[f];
        for (std::size_t s = 0; s < 64; ++s)
          fired_class[f * 192 + s * 3 + analysis::state_code(board[s])] += 1;
      }
    }
  }
  EXPECT_EQ(read_all(*store_, "corr", "class_count"), class_count);
  EXPECT_EQ(read_all(*store_, "corr", "fired"), fired);
  EXPECT_EQ(read_all(*store_, "corr", "fired_class"), fired_class);
  const auto got_sum = read_all(*store_, "corr", "sum_act");
  const auto firing = read_all(*store_, "corr", "firing_corr");
  const double n = static_cast<double>(kGames * kSliced);
  EXPECT_EQ(store_->open("corr").root().attrs().get_int("rows"), static_cast<std::int64_t>(n));
  for (std::size_t f = 0; f < d_sae; ++f) {
    // Double sums of N = 1960 positive float32 values in any order: within N * DBL_EPSILON * sum.
    EXPECT_NEAR(got_sum[f], sum_act[f], n * DBL_EPSILON * sum_act[f]) << f;
    for (std::size_t j = 0; j < 192; ++j) {
      // phi from exact counts, stored as float32 (|phi| <= 1: rounding <= FLT_EPSILON / 2).
      const double phi =
          analysis::phi_coefficient(fired_class[f * 192 + j], fired[f], class_count[j], n);
      EXPECT_NEAR(firing[f * 192 + j], phi, FLT_EPSILON) << "feature " << f << " column " << j;
    }
  }

  // The pipeline: sae_encode on the sliced cache, then sae_correlation. Its class counts depend
  // only on which boards the rows are labelled with.
  run_plugin(*store_, "sae_encode", "feat_sliced",
             {{"activations", std::string("sliced:") + kHook},
              {"sae", fixture("sae_training.pt").string()}});
  run_plugin(*store_, "sae_correlation", "corr_pipeline",
             {{"features", std::string("feat_sliced")}});
  EXPECT_EQ(read_all(*store_, "corr_pipeline", "class_count"), class_count);
}

// Products without the position attributes (written before they were recorded) or with ones that
// do not fit the data are refused with an error naming the product and the attributes.
TEST_F(SlicedCache, ProductsWithoutPositionsAreRefused) {
  auto write_raw = [&](const std::string& label, std::optional<std::pair<int, int>> span) {
    Product product = begin_product(*store_, label, "inference", "activations");
    Dataset d = product.root().create_dataset<float>(kHook, {kGames, kSliced, kDIn});
    d.write_rows<float>(0, slice(full_, kDIn));
    if (span) {
      d.attrs().set("positions_start", std::int64_t{span->first});
      d.attrs().set("positions_stop", std::int64_t{span->second});
    }
    store_->commit(std::move(product));
  };
  write_raw("old", std::nullopt);
  write_raw("inconsistent", std::pair{5, 60});
  const std::map<std::string, Value> unit{{"index", std::int64_t{3}}};
  for (const std::string plugin : {"max_activation", "neuron_spectrum", "sae_encode"}) {
    std::map<std::string, Value> config = unit;
    config["activations"] = "old:" + kHook;
    if (plugin == "sae_encode")
      config = {{"activations", std::string("old:") + kHook},
                {"sae", fixture("sae_training.pt").string()}};
    const std::string message =
        data_error([&] { run_plugin(*store_, plugin, plugin + "_old", config); });
    EXPECT_NE(message.find("product 'old'"), std::string::npos) << plugin << ": " << message;
    EXPECT_NE(message.find("positions_start / positions_stop"), std::string::npos) << message;
    EXPECT_NE(message.find("/" + kHook), std::string::npos) << message;
  }
  const std::string message = data_error([&] {
    run_plugin(*store_, "max_activation", "max_inconsistent",
               {{"activations", std::string("inconsistent:") + kHook}});
  });
  EXPECT_NE(message.find("[5, 60)"), std::string::npos) << message;
  EXPECT_NE(message.find("49 stored positions"), std::string::npos) << message;

  // A features product of that age: the CSR layout and attributes of then, no positions.
  {
    Product product = begin_product(*store_, "old_features", "sae_encode", "features");
    Group group = product.root().create_group("features");
    const std::vector<std::int64_t> zero{0};
    group.create_dataset<std::int64_t>("row_ptr", {1}).write_rows<std::int64_t>(0, zero);
    group.create_dataset<std::int16_t>("index", {0});
    group.create_dataset<float>("value", {0});
    auto a = group.attrs();
    a.set("format", analysis::kFeaturesFormat);
    a.set("d_sae", std::int64_t{4});
    a.set("positions", std::int64_t{0});
    a.set("games", std::int64_t{0});
    a.set("nnz", std::int64_t{0});
    store_->commit(std::move(product));
  }
  const std::string features_message = data_error([&] {
    run_plugin(*store_, "sae_correlation", "corr_old", {{"features", std::string("old_features")}});
  });
  EXPECT_NE(features_message.find("product 'old_features'"), std::string::npos) << features_message;
  EXPECT_NE(features_message.find("positions_start / positions_stop"), std::string::npos)
      << features_message;
}
