// A "unit" is one scalar per (game, position): a neuron of a cached hook, an SAE feature, or a
// probe direction's projection. max_activation and neuron_spectrum read a unit's values with this,
// so the unit parameters mean the same in both (docs/analyses.md, "Units").
#pragma once

#include <othrun/analysis/inputs.hpp>
#include <othrun/ranks.hpp>
#include <othrun/schema.hpp>
#include <othrun/store.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace othrun::analysis {

struct UnitSpec {
  std::string kind =
      "neuron";            // neuron (hook + index), feature (index), probe (square + direction)
  std::string hook;        // neuron / probe: the cached hook
  std::int64_t index = 0;  // neuron / feature index
  std::filesystem::path probe;     // probe: the full probe .pth
  int square = 0;                  // probe: square 0..63
  std::string direction = "mine";  // probe: blank or mine (blank_dir / mine_dir, docs/analyses.md)
  bool normalise = false;          // probe: unit-norm directions per square

  std::string name() const;  // "blocks.0.mlp.hook_post[774]", "feature 12", "probe mine_dir E0"
  // L of a neuron on a blocks.L.* hook, else -1.
  int layer() const;
  // The notebook's "L0N774" for a neuron of a blocks.L.* hook, else name(); for figure titles.
  std::string short_name() const;
};

// Declares the unit parameters (unit, index, probe, probe_square, probe_direction,
// probe_normalise) and the optional `activations` (LABEL:HOOK) and `features` inputs on `schema`.
void declare_unit(Schema& schema);
UnitSpec unit_from_config(const Config& config);
// Throws ConfigError when the parameters a kind needs are missing.
void validate_unit(const Config& config);

struct UnitValues {
  std::uint64_t games = 0;
  PositionSpan positions;     // the real positions of the columns (sliced caches start past 0)
  std::vector<float> values;  // [games, positions.count], game-major
  RowId row(std::size_t i) const { return row_id(positions, 0, i); }  // game, position of values[i]
};

// Reads the unit from `source` (the activations product for neuron/probe, the sae_encode product
// for feature), chunk by chunk. 4 bytes per (game, position): 24 MB for 100,000 games.
UnitValues read_unit_values(const UnitSpec& unit, const Product& source,
                            std::uint64_t chunk_games = 256);
// The same under N ranks (collective): each rank reads (and projects) its share of the games;
// rank 0 receives every value, in game order; the other ranks receive none.
UnitValues read_unit_values(const UnitSpec& unit, const Product& source, Ranks& ranks,
                            std::uint64_t chunk_games = 256);

}  // namespace othrun::analysis
