#include "ablations.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

namespace othrun::dashboard {

// The per-feature effects of a sae_intervention product (docs/interventions.md): mean change of
// each move's log-prob, over every edited row and over the rows where the feature fired, and the
// probe's flip rate. The product must have edited the SAE the features came from.
std::map<std::int64_t, AblationView> read_ablations(const Product& product, const Product& features,
                                                    std::int64_t units, DashboardMeta& meta) {
  std::map<std::int64_t, AblationView> ablations;
  const Group& root = product.root();
  const Attributes a = root.attrs();
  const std::string where = "sae_intervention product '" + product.label() + "'";
  const Attributes encoded = features.root().attrs();
  if (a.has("sae") && encoded.has("sae_path")) {
    std::error_code ec;
    if (!std::filesystem::equivalent(a.get_string("sae"), encoded.get_string("sae_path"), ec))
      throw DataError(fmt::format("{} edited the SAE {}, but the features come from {}", where,
                                  a.get_string("sae"), encoded.get_string("sae_path")));
  }
  const auto index = root.group("features").dataset("index").read_all<std::int64_t>();
  const auto rows = root.dataset("rows").read_all<std::int64_t>();
  const auto logprob = root.dataset("logprob_change").read_all<double>();
  std::vector<double> flips;
  if (root.contains("probe_flips")) flips = root.dataset("probe_flips").read_all<double>();
  const std::size_t n = index.size();
  if (rows.size() != n * 2 || logprob.size() != n * 2 * 64 ||
      (!flips.empty() && flips.size() != n * 2 * 64))
    throw DataError(where +
                    ": rows, logprob_change and probe_flips do not match features/index "
                    "(expected [feature, 2], [feature, 2, 8, 8])");
  for (std::size_t k = 0; k < n; ++k) {
    if (index[k] < 0 || index[k] >= units)
      throw DataError(
          fmt::format("{}: feature {} is outside the {} features", where, index[k], units));
    AblationView v;
    v.rows_all = rows[k * 2];
    v.rows_fired = rows[k * 2 + 1];
    v.logprob_all.assign(logprob.begin() + static_cast<std::ptrdiff_t>(k * 128),
                         logprob.begin() + static_cast<std::ptrdiff_t>(k * 128 + 64));
    v.logprob_fired.assign(logprob.begin() + static_cast<std::ptrdiff_t>(k * 128 + 64),
                           logprob.begin() + static_cast<std::ptrdiff_t>(k * 128 + 128));
    if (!flips.empty())
      v.flips_fired.assign(flips.begin() + static_cast<std::ptrdiff_t>(k * 128 + 64),
                           flips.begin() + static_cast<std::ptrdiff_t>(k * 128 + 128));
    ablations[index[k]] = std::move(v);
  }
  const std::string op = a.has("op") ? a.get_string("op") : "?";
  meta.ablation_source = fmt::format(
      "product '{}': {}{} one feature at a time at {}", product.label(), op,
      op == "ablate" ? "" : fmt::format(" (value {})", a.has("value") ? a.get_float("value") : NAN),
      a.has("hook") ? a.get_string("hook") : "the SAE's hook");
  meta.ablation_note = fmt::format(
      "'{}' edited {} of the {} features; the others show nothing here", product.label(), n, units);
  return ablations;
}

}  // namespace othrun::dashboard
