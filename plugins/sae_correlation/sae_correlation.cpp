// sae_correlation: how SAE features relate to the board. For every (feature, square, state) the
// Pearson correlation of firing and of the activation with "square in state", F1 and AUROC, and the
// top pairs with their 2x2 counts; streamed over chunks of games (docs/analyses.md).
#include "correlation.hpp"

#include <othrun/analysis/inputs.hpp>
#include <othrun/plugin.hpp>

namespace {

using namespace othrun;

class SaeCorrelation : public Step {
 public:
  static constexpr const char* kName = "sae_correlation";
  static constexpr const char* kVersion = "1.0.0";

  static Schema describe() {
    Schema schema("Correlation, F1 and AUROC of SAE features with every square's state");
    schema.input("games", games::kKind, "games", "the games (ground truth)");
    schema.input("features", "features", std::nullopt,
                 "SAE feature activations (an sae_encode step)");
    schema.flag(
        "notebook_compat", false,
        "reproduce the seed notebook exactly: corr(acts == 0, state < 0 (white)), 2x2 counts "
        "with state == 0, the 60-entry square labels (docs/analyses.md)");
    schema.integer("top_k", 10, "pairs to report").range(1, 100000);
    schema.choice("rank_by", {"firing_corr", "act_corr", "f1", "auroc"}, "firing_corr",
                  "metric that ranks the (feature, square, state) pairs");
    schema.choice("mine_theirs", {"real", "parity"}, "real",
                  "whose discs are 'mine': the real side to move, or the notebooks' move parity");
    schema.integer("chunk_games", 256, "games per streamed chunk").range(1, 1000000);
    schema.integer("auroc_bins", 32, "log-spaced bins of positive activations for AUROC")
        .range(1, 1024);
    schema.reals("auroc_range", std::vector<double>{1e-3, 1e3},
                 "[lo, hi] of the AUROC bins (values outside go to the end bins)");
    schema.integer("histogram_bins", 100, "bins of the correlation histogram").range(1, 10000);
    schema.provides("sae_correlation");
    schema.data_parallel();
    for (const char* name : {"firing_corr", "act_corr", "f1", "auroc", "auroc_tie_bound"}) {
      schema.dataset(name, DType::Float32, "feature,square,state",
                     "per (feature, square, state): see docs/analyses.md");
    }
    schema.dataset("fired_class", DType::Int64, "feature,square,state",
                   "rows where the feature fired and the square is in state");
    schema.dataset("class_count", DType::Int64, "square,state",
                   "rows where the square is in state");
    schema.dataset("fired", DType::Int64, "feature", "rows where the feature fired");
    schema.dataset("sum_act", DType::Float64, "feature", "sum of activations");
    schema.dataset("sum_act2", DType::Float64, "feature", "sum of squared activations");
    schema.dataset("histogram/edges", DType::Float64, "edge", "correlation histogram bin edges");
    schema.dataset("histogram/counts", DType::Float64, "bin", "correlation histogram counts");
    return schema;
  }

  static void validate(const Config& config) {
    const auto r = config.get_floats("auroc_range");
    if (r.size() != 2 || !(r[0] > 0) || !(r[1] > r[0])) {
      throw ConfigError("auroc_range", "needs two values 0 < lo < hi");
    }
  }

  explicit SaeCorrelation(const Config& config) : config_(config) {
    options_.notebook_compat = config.get_bool("notebook_compat");
    options_.top_k = static_cast<int>(config.get_int("top_k"));
    options_.rank_by = config.get_string("rank_by");
    options_.convention = *othello::parse_mine_theirs(config.get_string("mine_theirs"));
    options_.chunk_games = static_cast<std::uint64_t>(config.get_int("chunk_games"));
    const auto r = config.get_floats("auroc_range");
    options_.bins = analysis::LogBins{r[0], r[1], static_cast<int>(config.get_int("auroc_bins"))};
    options_.histogram_bins = static_cast<int>(config.get_int("histogram_bins"));
  }

  void run(RunContext& ctx) override {
    options_.threads = ctx.threads();
    const Product& games_product = ctx.input("games");
    const Product& features_product = ctx.input("features");
    const games::GamesReader games(games_product);
    const analysis::FeatureReader features(features_product);
    analysis::check_alignment(features.games(), games.size(), features.span(), "sae_correlation");
    const auto source = [&](std::uint64_t first, std::uint64_t count) {
      return features.read(first, count);
    };
    const auto stats = sae_correlation::accumulate(source, games, features.games(), features.span(),
                                                   features.d_sae(), options_, ctx.ranks());
    if (!ctx.ranks().is_root()) return;  // rank 0 holds the sums of every rank's games
    sae_correlation::write_results(ctx.output().root(), stats, options_);
  }

 private:
  Config config_;
  sae_correlation::Options options_;
};

}  // namespace

OTHRUN_PLUGIN(SaeCorrelation)
