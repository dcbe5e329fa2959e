// The analysis plugins end to end: stores written here, plugins run from their modules, results
// checked on hand-computable cases and against numpy/torch recomputations (check_*.py).
#include "harness.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/report.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>

using namespace othrun;
using namespace othrun::analysis_test;

namespace {

constexpr std::uint64_t kGames = 40, kPositions = 59, kDIn = 16;
const std::string kHook = "blocks.6.hook_resid_pre";

// Activations with some board signal, so that features correlate with squares.
std::vector<float> activations(Store& store) {
  const Product product = store.open("games");
  const games::GamesReader reader(product);
  const games::GameBatch batch = reader.read(0, kGames);
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 1);
  std::vector<float> x(kGames * kPositions * kDIn);
  std::array<std::int8_t, 64> board{};
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::uint64_t p = 0; p < kPositions; ++p) {
      batch.board(g, static_cast<int>(p), games::Frame::MineTheirs, board);
      float* row = &x[(g * kPositions + p) * kDIn];
      for (std::uint64_t d = 0; d < kDIn; ++d) row[d] = noise(rng) + 1.5f * board[d * 3 % 64];
    }
  }
  return x;
}

class AnalysisStore : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<Store>(dir_.path() / "run.h5");
    write_games(*store_, "games", kGames, 99);
    write_activations(*store_, "acts", kHook, activations(*store_), kGames, kPositions, kDIn);
    run_plugin(*store_, "sae_encode", "features",
               {{"activations", "acts:" + kHook}, {"sae", fixture("sae_training.pt").string()}});
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

std::vector<double> read_all(const Store& store, const std::string& label,
                             const std::string& path) {
  return store.open(label).root().dataset(path).read_all<double>();
}

// A figure of a product with its parsed Plotly JSON.
struct StoredFigure {
  report::Figure figure;
  nlohmann::json plotly;
  const nlohmann::json& trace(std::size_t i = 0) const { return plotly.at("data").at(i); }
  std::string title() const { return plotly.at("layout").at("title").at("text"); }
};

StoredFigure stored_figure(const Store& store, const std::string& label, const std::string& name) {
  const Product product = store.open(label);
  std::vector<std::string> names;
  for (report::Figure& f : report::read_figures(product.root())) {
    if (f.name == name) {
      nlohmann::json plotly = nlohmann::json::parse(f.plotly_json);
      EXPECT_EQ(plotly.at("layout").at("title").at("text"), f.title) << name;
      return {std::move(f), std::move(plotly)};
    }
    names.push_back(f.name);
  }
  std::string have;
  for (const auto& n : names) have += " " + n;
  throw std::runtime_error(label + " has no figure " + name + "; it has:" + have);
}

// An 8x8 heatmap's z equals `board` (square s = row * 8 + col; NaN drawn blank).
void expect_board(const StoredFigure& f, const std::vector<double>& board) {
  EXPECT_EQ(f.figure.kind, "heatmap");
  const auto& z = f.trace().at("z");
  ASSERT_EQ(z.size(), 8u);
  ASSERT_EQ(board.size(), 64u);
  for (std::size_t r = 0; r < 8; ++r) {
    ASSERT_EQ(z[r].size(), 8u);
    for (std::size_t c = 0; c < 8; ++c) {
      const double want = board[r * 8 + c];
      if (std::isnan(want)) {
        EXPECT_TRUE(z[r][c].is_null()) << f.figure.name << " " << r << "," << c;
      } else {
        EXPECT_DOUBLE_EQ(z[r][c].get<double>(), want) << f.figure.name << " " << r << "," << c;
      }
    }
  }
}

double sum(const nlohmann::json& values) {
  double total = 0;
  for (const auto& v : values) total += v.get<double>();
  return total;
}

// The correlation histogram, the top pairs table and the pairs' 2x2 counts, linked both ways;
// `pairs` is the group holding the pairs the figures show.
void expect_correlation_figures(const Store& store, const std::string& label,
                                const std::string& pairs, const std::string& histogram_title,
                                bool notebook) {
  const auto hist = stored_figure(store, label, "correlation_histogram");
  EXPECT_EQ(hist.figure.kind, "correlation_histogram");
  EXPECT_EQ(hist.figure.title, histogram_title);
  EXPECT_EQ(hist.trace().at("x").size(), 100u);
  EXPECT_EQ(sum(hist.trace().at("y")),
            sum(nlohmann::json(read_all(store, label, "histogram/counts"))));

  const Product product = store.open(label);
  const Group top = product.root().group(pairs);
  const auto feature = top.dataset("feature").read_all<std::int64_t>();
  const auto state = top.dataset("state").read_all<std::int64_t>();
  const auto counts = top.dataset("counts").read_all<double>();  // [pair, in state?, fired?]
  const auto labels = top.attrs().get_strings(notebook ? "notebook_square_label" : "square_label");
  ASSERT_EQ(feature.size(), 10u);

  const auto table = stored_figure(store, label, "top_pairs");
  EXPECT_EQ(table.figure.kind, "table");
  const auto& cells = table.trace().at("cells").at("values");
  EXPECT_EQ(cells.at(0).size(), 10u);  // one row per pair
  EXPECT_EQ(table.trace().at("header").at("values").size(), notebook ? 5u : 6u);
  const char* const states[] = {"Empty", "Theirs", "Mine"};
  EXPECT_EQ(table.figure.related,
            (std::vector<std::string>{"pair_counts", "correlation_histogram"}));
  // One small-multiples figure: a panel (two bar series on their own axes) per pair, in rank order.
  const auto bars = stored_figure(store, label, "pair_counts");
  EXPECT_EQ(bars.figure.kind, "pair_counts");
  EXPECT_EQ(bars.figure.related, std::vector<std::string>{"top_pairs"});
  ASSERT_EQ(bars.plotly.at("data").size(), 2 * feature.size());
  const auto& titles = bars.plotly.at("layout").at("annotations");
  ASSERT_EQ(titles.size(), feature.size());
  for (std::size_t i = 0; i < feature.size(); ++i) {
    EXPECT_EQ(cells.back()[i], "pair_counts");
    const std::string st = notebook ? "Empty" : states[state[i]];
    EXPECT_EQ(titles[i].at("text"),
              "F" + std::to_string(feature[i]) + " vs Is" + st + "(" + labels[i] + ")");
    const auto& in_state = bars.trace(2 * i);
    const auto& not_in_state = bars.trace(2 * i + 1);
    const std::string axis = i == 0 ? "x" : "x" + std::to_string(i + 1);
    EXPECT_EQ(in_state.at("xaxis"), axis);
    EXPECT_EQ(in_state.at("x"), nlohmann::json({"False", "True"}));
    EXPECT_EQ(in_state.at("y"), nlohmann::json({counts[i * 4 + 2], counts[i * 4 + 3]}));
    EXPECT_EQ(not_in_state.at("y"), nlohmann::json({counts[i * 4 + 0], counts[i * 4 + 1]}));
  }
}

}  // namespace

TEST_F(AnalysisStore, SaeEncodeStoresCsrAndMetrics) {
  const Product p = store_->open("features");
  const analysis::FeatureReader reader(p.root().group("features"));
  EXPECT_EQ(reader.games(), kGames);
  EXPECT_EQ(reader.positions(), 59);
  EXPECT_EQ(reader.d_sae(), 24);
  const auto rows = reader.read(3, 2);
  EXPECT_EQ(rows.rows(), 2 * 59);
  std::string out;
  EXPECT_EQ(run_python("check_sae_encode.py",
                       {store_->index_path().string(), fixture("sae_training.pt").string()}, out),
            0)
      << out;
}

TEST_F(AnalysisStore, SaeCorrelationMatchesNumpyAndNotebook) {
  run_plugin(*store_, "sae_correlation", "corr", {{"features", std::string("features")}});
  run_plugin(*store_, "sae_correlation", "corr_nb",
             {{"features", std::string("features")}, {"notebook_compat", true}});
  std::string out;
  EXPECT_EQ(run_python("check_sae_correlation.py", {store_->index_path().string()}, out), 0) << out;
  expect_correlation_figures(*store_, "corr", "top_pairs",
                             "Correlation between feature firing and square state", false);
  expect_correlation_figures(*store_, "corr_nb", "notebook/top_pairs",
                             "Correlation between feature acts and is_empty", true);
}

TEST_F(AnalysisStore, SaeCorrelationIndependentOfChunksAndThreads) {
  run_plugin(*store_, "sae_correlation", "whole",
             {{"features", std::string("features")}, {"chunk_games", std::int64_t{1000}}});
  run_plugin(*store_, "sae_correlation", "chunked",
             {{"features", std::string("features")}, {"chunk_games", std::int64_t{7}}}, 2);
  for (const char* name : {"firing_corr", "act_corr", "f1", "auroc", "fired_class",
                           "top_pairs/feature", "top_pairs/counts"}) {
    const auto a = read_all(*store_, "whole", name), b = read_all(*store_, "chunked", name);
    ASSERT_EQ(a.size(), b.size()) << name;
    for (std::size_t i = 0; i < a.size(); ++i) {
      // Counts are exact; correlations may sum float64 terms over the 2,360 rows in another
      // order per chunking: <= 2360 * 2^-53 relative to the sum of |terms| (~1), hence 1e-12.
      if (!(std::isnan(a[i]) && std::isnan(b[i]))) {
        ASSERT_NEAR(a[i], b[i], 1e-12) << name << " at " << i;
      }
    }
  }
}

TEST_F(AnalysisStore, MaxActivationAndSpectrumMatchTorch) {
  const std::map<std::string, Value> neuron{{"activations", "acts:" + kHook},
                                            {"index", std::int64_t{3}}};
  auto with = [&](std::map<std::string, Value> extra) {
    extra.insert(neuron.begin(), neuron.end());
    return extra;
  };
  run_plugin(*store_, "max_activation", "max_nb", with({{"mine_theirs", std::string("parity")}}));
  run_plugin(*store_, "max_activation", "max_feature",
             {{"unit", std::string("feature")},
              {"features", std::string("features")},
              {"index", std::int64_t{2}},
              {"top", std::string("k")},
              {"k", std::int64_t{25}}});
  run_plugin(*store_, "neuron_spectrum", "spectrum", with({{"square", std::string("E0")}}));
  run_plugin(*store_, "neuron_spectrum", "spectrum_state",
             with({{"split_by", std::string("square_state")},
                   {"square", std::string("19")},
                   {"state", std::string("mine")},
                   {"bins", std::int64_t{30}}}));
  std::string out;
  EXPECT_EQ(run_python("check_units.py", {store_->index_path().string()}, out), 0) << out;

  // The notebook's figures, from the stored results.
  const auto mean = stored_figure(*store_, "max_nb", "mean_board");
  EXPECT_EQ(mean.figure.title, "Max activating dataset examples for L6N3");
  expect_board(mean, read_all(*store_, "max_nb", "mean_board"));
  EXPECT_EQ(mean.trace().at("zmid"), 0.0);
  const auto mean_abs = stored_figure(*store_, "max_nb", "mean_abs_board");
  EXPECT_EQ(mean_abs.figure.title, "Max activating dataset examples for L6N3 (abs value)");
  expect_board(mean_abs, read_all(*store_, "max_nb", "mean_abs_board"));
  const auto moves = stored_figure(*store_, "max_nb", "active_moves");
  EXPECT_EQ(moves.figure.kind, "bar");
  EXPECT_EQ(moves.figure.title, "Current move when L6N3 activates");
  EXPECT_EQ(moves.trace().at("x").size(), 60u);  // every square but the centre four
  EXPECT_EQ(sum(moves.trace().at("y")),
            static_cast<double>(
                store_->open("max_nb").root().group("active_moves").attrs().get_int("active")));
  EXPECT_EQ(stored_figure(*store_, "max_feature", "mean_board").figure.title,
            "Max activating dataset examples for feature 2");

  const auto spectrum = stored_figure(*store_, "spectrum", "spectrum");
  EXPECT_EQ(spectrum.figure.kind, "spectrum");
  EXPECT_EQ(spectrum.figure.title, "L6N3 spectrum plot testing current_move==E0");
  ASSERT_EQ(spectrum.plotly.at("data").size(), 2u);
  const auto percent = read_all(*store_, "spectrum", "percent");
  for (std::size_t l = 0; l < 2; ++l) {
    EXPECT_EQ(spectrum.trace(l).at("name"), l ? "True" : "False");
    const auto& y = spectrum.trace(l).at("y");
    ASSERT_EQ(y.size(), 100u);
    for (std::size_t b = 0; b < 100; ++b)
      EXPECT_NEAR(y[b].get<double>(), percent[l * 100 + b], 1e-9);
  }
  EXPECT_NEAR(sum(spectrum.trace(0).at("y")), 100.0, 1e-9);
  const auto state = stored_figure(*store_, "spectrum_state", "spectrum");
  EXPECT_EQ(state.figure.title, "L6N3 spectrum plot testing C3==mine");
  EXPECT_EQ(state.trace(0).at("x").size(), 30u);
}

// A unit that is 2 exactly when the move just played is E0 and -1 otherwise: the spectrum
// separates perfectly and every active position played E0.
TEST_F(AnalysisStore, HandComputedMoveDetector) {
  const Product games_product = store_->open("games");
  const games::GameBatch batch = games::GamesReader(games_product).read(0, kGames);
  std::vector<float> x(kGames * kPositions);
  std::int64_t e0 = 0;
  for (std::uint64_t g = 0; g < kGames; ++g) {
    for (std::uint64_t p = 0; p < kPositions; ++p) {
      const bool hit = batch.squares[games::GameBatch::index(g, static_cast<int>(p))] == 32;
      x[g * kPositions + p] = hit ? 2.0f : -1.0f;
      e0 += hit;
    }
  }
  write_activations(*store_, "detector", "unit", x, kGames, kPositions, 1);
  const std::map<std::string, Value> unit{{"activations", std::string("detector:unit")}};
  run_plugin(*store_, "neuron_spectrum", "det_spectrum", unit);
  run_plugin(*store_, "max_activation", "det_max", unit);
  const Product spectrum = store_->open("det_spectrum");
  EXPECT_DOUBLE_EQ(spectrum.root().attrs().get_float("auroc"), 1.0);
  EXPECT_EQ(spectrum.root().attrs().get_string("label"), "current_move==E0");
  const auto summary = spectrum.root().dataset("summary").read_all<double>();
  EXPECT_EQ(summary[5], static_cast<double>(e0));  // label true: count
  EXPECT_EQ(summary[6], 2.0);                      // mean
  const Product max = store_->open("det_max");
  const auto fraction = max.root().dataset("active_moves/fraction").read_all<double>();
  EXPECT_DOUBLE_EQ(fraction[32], 1.0);
  EXPECT_EQ(max.root().group("active_moves").attrs().get_int("active"), e0);
  const auto moves = stored_figure(*store_, "det_max", "active_moves");
  const auto& squares = moves.trace().at("x");
  const auto& counts = moves.trace().at("y");
  for (std::size_t i = 0; i < squares.size(); ++i) {
    EXPECT_EQ(counts[i].get<double>(), squares[i] == "E0" ? static_cast<double>(e0) : 0.0)
        << squares[i];
  }
  EXPECT_EQ(stored_figure(*store_, "det_spectrum", "spectrum").figure.title,
            "unit[0] spectrum plot testing current_move==E0");
}

TEST_F(AnalysisStore, ProbeProjectionMatchesNumpy) {
  std::vector<float> x(kGames * kPositions * 8);
  std::mt19937 rng(8);
  std::normal_distribution<float> normal;
  for (auto& v : x) v = normal(rng);
  write_activations(*store_, "acts8", "blocks.6.hook_resid_post", x, kGames, kPositions, 8, true);
  run_plugin(*store_, "probe_projection", "probe",
             {{"activations", std::string("acts8:blocks.6.hook_resid_post")},
              {"probe", fixture("probe.pth").string()},
              {"store_scores", true},
              {"accuracy_positions", std::string("5:54")},
              {"directions", fixture("directions.pth").string()},
              {"directions_source", std::string("tensor")},
              {"directions_tensor", std::string("W_in")},
              {"directions_axis", std::int64_t{1}}});
  const auto board = stored_figure(*store_, "probe", "accuracy_board");
  expect_board(board, read_all(*store_, "probe", "accuracy/per_square"));
  EXPECT_EQ(board.figure.title, "Probe accuracy per square on blocks.6.hook_resid_post");
  // The colours span the data's range (fitted, not 0..1), stated in the caption.
  const auto per_square = read_all(*store_, "probe", "accuracy/per_square");
  const auto [lo, hi] = std::minmax_element(per_square.begin(), per_square.end());
  if (*lo < *hi) {
    EXPECT_DOUBLE_EQ(board.trace().at("zmin").get<double>(), *lo);
    EXPECT_DOUBLE_EQ(board.trace().at("zmax").get<double>(), *hi);
  }
  EXPECT_NE(board.figure.caption.find("(the data's range)"), std::string::npos);
  const auto line = stored_figure(*store_, "probe", "accuracy_by_position");
  EXPECT_EQ(line.figure.kind, "line");
  const auto per_position = read_all(*store_, "probe", "accuracy/per_position");
  const auto& xs = line.trace().at("x");
  ASSERT_EQ(xs.size(), 49u);  // positions 5..53
  for (std::size_t i = 0; i < xs.size(); ++i) {
    EXPECT_EQ(xs[i].get<double>(), static_cast<double>(5 + i));
    EXPECT_DOUBLE_EQ(line.trace().at("y")[i].get<double>(), per_position[5 + i]);
  }
  EXPECT_EQ(board.figure.related, std::vector<std::string>{"accuracy_by_position"});
  std::string out;
  EXPECT_EQ(run_python("check_probe.py",
                       {store_->index_path().string(), fixture("probe.pth").string(),
                        fixture("directions.pth").string()},
                       out),
            0)
      << out;
}
