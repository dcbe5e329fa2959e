// The computation behind the sae_correlation plugin, separate from the Step so that tests and the
// benchmark drive it with their own feature sources.
#pragma once

#include <othrun/analysis/class_stats.hpp>
#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/sparse.hpp>
#include <othrun/games.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace othrun::sae_correlation {

struct Options {
  bool notebook_compat = false;  // docs/analyses.md: the seed's exact (mistaken) numbers
  int top_k = 10;
  std::string rank_by = "firing_corr";  // firing_corr, act_corr, f1, auroc
  othello::MineTheirs convention = othello::MineTheirs::Real;
  analysis::LogBins bins;
  int histogram_bins = 100;
  std::uint64_t chunk_games = 256;
  int threads = 1;
};

// Feature activations (CSR rows, game-major) of games [first, first + count).
using FeatureSource = std::function<analysis::SparseRows(std::uint64_t first, std::uint64_t count)>;

struct Timing {
  double read_features_s = 0;  // the source: reading the store, or encoding on the fly
  double read_games_s = 0;     // games product + labels
  double accumulate_s = 0;
};

// Streams `games` games in chunks of options.chunk_games; the source's row (g, j) is labelled with
// the board at model position positions.position(j).
analysis::FeatureClassStats accumulate(const FeatureSource& source, const games::GamesReader& games,
                                       std::uint64_t n_games,
                                       const analysis::PositionSpan& positions, std::int64_t d_sae,
                                       const Options& options, Timing* timing = nullptr);
// The same under N ranks (collective): each rank accumulates its share, chunk by chunk, and the
// chunks are summed in one order for any N (BlockTree). Rank 0 gets the stats of every game; the
// other ranks get empty stats.
analysis::FeatureClassStats accumulate(const FeatureSource& source, const games::GamesReader& games,
                                       std::uint64_t n_games,
                                       const analysis::PositionSpan& positions, std::int64_t d_sae,
                                       const Options& options, Ranks& ranks,
                                       Timing* timing = nullptr);

// One ranked (feature, square, state) pair with its 2x2 "fired x in state" counts.
struct Pair {
  std::int64_t feature = 0;
  int square = 0;
  int state = 0;
  double score = 0;
  std::uint64_t counts[2][2] = {};  // [in state?][fired?]
};

// The notebook's pairs: top_k of corr(acts == 0, state < 0) over [d_sae, 64], counts with
// state == 0 (stats must be accumulated in the BlackWhite frame).
std::vector<Pair> notebook_top_pairs(const analysis::FeatureClassStats& stats, int k);
// The corrected top pairs by options.rank_by over every (feature, square, state).
std::vector<Pair> top_pairs(const analysis::FeatureClassStats& stats, const Options& options);
// The notebook's label of a square id: board_labels[id] over the 60-entry token-label list.
std::string notebook_square_label(int square);

// Writes every result under `root` (layout in docs/analyses.md).
void write_results(Group& root, const analysis::FeatureClassStats& stats, const Options& options);

}  // namespace othrun::sae_correlation
