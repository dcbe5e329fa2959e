#include "report/sae_comparison.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <othrun/store.hpp>

namespace othrun::report {
namespace {

// The hook the features came from and the positions the metrics cover ("" when not stored).
void read_texts(const Store& store, SaeSummary& sae) {
  try {
    const Product product = store.open(sae.label);
    const Attributes features = product.root().group("features").attrs();
    if (features.has("hook")) sae.hook = features.get_string("hook");
    const Attributes metrics = product.root().group("metrics").attrs();
    if (metrics.has("positions")) sae.positions = metrics.get_string("positions");
  } catch (const std::exception&) {
    // A product that cannot be read has its own note in its section.
  }
}

}  // namespace

std::vector<SaeSummary> summarize_saes(const Store& store, const std::vector<StepReport>& steps) {
  std::vector<SaeSummary> out;
  for (const auto& step : steps) {
    if (step.plugin != "sae_encode" || !step.in_store || !step.error.empty()) continue;
    const auto d_sae = step.metric("d_sae");
    const auto mse = step.metric("metrics/mse");
    const auto ev = step.metric("metrics/explained_variance");
    const auto l0 = step.metric("metrics/l0");
    const auto dead = step.metric("metrics/dead_features");
    const auto rows = step.metric("metrics/rows");
    if (!d_sae || !mse || !ev || !l0 || !dead || !rows) continue;  // not sae_encode's layout
    SaeSummary sae;
    sae.label = step.label;
    sae.status = step.status;
    read_texts(store, sae);
    sae.d_sae = *d_sae, sae.mse = *mse, sae.explained_variance = *ev, sae.l0 = *l0;
    sae.dead_features = *dead, sae.rows = *rows;
    sae.loss_clean = step.metric("metrics/loss_clean");
    sae.loss_spliced = step.metric("metrics/loss_spliced");
    sae.loss_games = step.metric("metrics/loss_games");
    out.push_back(std::move(sae));
  }
  std::stable_sort(out.begin(), out.end(), [](const SaeSummary& a, const SaeSummary& b) {
    return std::tie(a.hook, a.d_sae) < std::tie(b.hook, b.d_sae);
  });
  return out;
}

Figure sae_comparison_figure(const std::vector<SaeSummary>& saes) {
  struct Measure {
    const char* title;
    double SaeSummary::*field;
  };
  const Measure measures[] = {{"MSE", &SaeSummary::mse},
                              {"explained variance", &SaeSummary::explained_variance},
                              {"L0 (features firing per row)", &SaeSummary::l0},
                              {"dead features", &SaeSummary::dead_features}};
  std::map<std::string, std::vector<const SaeSummary*>> by_hook;
  for (const auto& sae : saes) by_hook[sae.hook.empty() ? "?" : sae.hook].push_back(&sae);
  std::vector<Panel> panels;
  for (const auto& measure : measures) {
    Panel panel{measure.title, {}};
    for (const auto& [hook, group] : by_hook) {
      Series series{hook, {}, {}, {}, {}};
      for (const SaeSummary* sae : group) {
        series.x.push_back(sae->d_sae);
        series.y.push_back(sae->*measure.field);
        series.text.push_back(sae->label);
      }
      panel.series.push_back(std::move(series));
    }
    panels.push_back(std::move(panel));
  }
  // The loss increase only when every SAE stores it: a line with holes would mislead.
  const bool all_losses = std::all_of(saes.begin(), saes.end(), [](const SaeSummary& sae) {
    return sae.loss_clean && sae.loss_spliced;
  });
  if (all_losses) {
    Panel panel{"loss increase, spliced (nats)", {}};
    for (const auto& [hook, group] : by_hook) {
      Series series{hook, {}, {}, {}, {}};
      for (const SaeSummary* sae : group) {
        series.x.push_back(sae->d_sae);
        series.y.push_back(*sae->loss_spliced - *sae->loss_clean);
        series.text.push_back(sae->label);
      }
      panel.series.push_back(std::move(series));
    }
    panels.push_back(std::move(panel));
  }
  PanelGrid grid;
  grid.title = "SAEs by width";
  grid.x_title = "features (d_sae)";
  grid.columns = panels.size() > 4 ? 3 : 4;  // five titles do not fit in one row
  grid.panel_height = 200;
  grid.log_x = true;
  return small_multiples("sae_widths", PanelKind::Lines, grid, panels,
                         "Each sae_encode step's stored metrics (metrics/ attributes) against its "
                         "width, one line per hook; the table above holds the values.");
}

}  // namespace othrun::report
