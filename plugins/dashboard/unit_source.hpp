// Where a dashboard's units come from and how their values are read: the features of an
// sae_encode product, the neurons of one cached hook, or the 64 per-square directions of a probe
// projected onto a cached hook. Values are read in blocks of units, so memory stays bounded by
// the block (units x rows x 4 bytes) whatever the number of units.
#pragma once

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/probe.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace othrun::dashboard {

enum class UnitKind { Feature, Neuron, Probe };

class UnitSource {
 public:
  // Features of `features` (an sae_encode product).
  static UnitSource features(const Product& features);
  // Neurons (the last axis) of cached hook `hook` of `activations`.
  static UnitSource neurons(const Product& activations, const std::string& hook);
  // Projections of cached hook `hook` onto each square's `direction` ("blank" or "mine") of the
  // collapsed probe: 64 units, unit s = square s.
  static UnitSource probe(const Product& activations, const std::string& hook,
                          analysis::Probe probe, const std::string& direction);

  UnitKind kind() const { return kind_; }
  std::int64_t units() const { return units_; }
  std::uint64_t games() const { return games_; }
  const analysis::PositionSpan& span() const { return span_; }
  std::uint64_t rows() const { return games_ * static_cast<std::uint64_t>(span_.count); }
  const std::string& hook() const { return hook_; }  // the cached hook ("" for features)
  // "feature 12", "L0N345" (a neuron of a blocks.L.* hook), "neuron 7", "probe mine E4".
  std::string unit_name(std::int64_t unit) const;
  // What the units are, for titles: "SAE features of sae_1024 (1024)".
  std::string description() const;

  // Values of units [first, first + count): [count, rows()], unit-major, rows game-major.
  std::vector<float> read_block(std::int64_t first, std::int64_t count,
                                std::uint64_t chunk_games) const;

  // The probe direction of unit s as a vector in the hook's space (probe units only).
  const analysis::Probe* probe_model() const { return probe_ ? &*probe_ : nullptr; }
  const std::string& probe_direction() const { return direction_; }  // blank or mine

 private:
  UnitSource() = default;
  void read_features(std::int64_t first, std::int64_t count, std::uint64_t chunk_games,
                     std::vector<float>& out) const;
  void read_dense(std::int64_t first, std::int64_t count, std::uint64_t chunk_games,
                  std::vector<float>& out) const;

  UnitKind kind_ = UnitKind::Feature;
  std::string label_;  // the product the units come from
  std::string hook_;
  std::int64_t units_ = 0;
  std::uint64_t games_ = 0;
  analysis::PositionSpan span_;
  std::optional<analysis::FeatureReader> features_;
  std::optional<analysis::ActivationReader> activations_;
  std::optional<analysis::Probe> probe_;
  std::string direction_;  // probe units: "blank" or "mine"
};

}  // namespace othrun::dashboard
