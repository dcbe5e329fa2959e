#include <othrun/analysis/units.hpp>

#include <othrun/analysis/inputs.hpp>
#include <othrun/analysis/probe.hpp>
#include <othrun/error.hpp>
#include <othrun/othello.hpp>

#include <fmt/format.h>

#include <charconv>
#include <string_view>

namespace othrun::analysis {

std::string UnitSpec::name() const {
  if (kind == "feature") return "feature " + std::to_string(index);
  if (kind == "probe")
    return "probe " + direction + "_dir " + othello::square_label(square) + " on " + hook;
  return hook + "[" + std::to_string(index) + "]";
}

int UnitSpec::layer() const {
  constexpr std::string_view prefix = "blocks.";
  if (kind != "neuron" || !hook.starts_with(prefix)) return -1;
  int l = -1;
  const char* first = hook.data() + prefix.size();
  const char* last = hook.data() + hook.size();
  const auto [end, ec] = std::from_chars(first, last, l);
  if (ec != std::errc() || end == first || end == last || *end != '.') return -1;
  return l;
}

std::string UnitSpec::short_name() const {
  const int l = layer();
  return l < 0 ? name() : fmt::format("L{}N{}", l, index);
}

void declare_unit(Schema& schema) {
  schema.choice("unit", {"neuron", "feature", "probe"}, "neuron",
                "what to analyse: a neuron of a cached hook, an SAE feature, or a probe direction");
  schema
      .input(
          "activations", "activations", std::nullopt,
          "the cached hook, LABEL:HOOK, e.g. cache:blocks.0.mlp.hook_post (unit neuron or probe)")
      .hook_dataset()
      .optional = true;
  schema.input("features", "features", std::nullopt, "an sae_encode product (unit feature)")
      .optional = true;
  schema.retired("hook",
                 "name the hook in the input: activations: LABEL:HOOK, e.g. "
                 "activations: cache:blocks.0.mlp.hook_post");
  schema.integer("index", 0, "neuron index within the hook, or SAE feature index")
      .range(0, 1 << 30);
  schema.path("probe", "", "full probe .pth [3, d_model, 8, 8, 3] (unit probe)").existing();
  schema.integer("probe_square", 0, "square 0..63 of the probe direction").range(0, 63);
  schema.choice("probe_direction", {"blank", "mine"}, "mine",
                "blank_dir or mine_dir of the collapsed probe");
  schema.flag("probe_normalise", false, "scale the probe direction to unit norm per square");
}

UnitSpec unit_from_config(const Config& config) {
  UnitSpec u;
  u.kind = config.get_string("unit");
  if (config.has("activations")) u.hook = config.input_dataset("activations");
  u.index = config.get_int("index");
  if (u.kind == "probe") u.probe = config.get_path("probe");
  u.square = static_cast<int>(config.get_int("probe_square"));
  u.direction = config.get_string("probe_direction");
  u.normalise = config.get_bool("probe_normalise");
  return u;
}

void validate_unit(const Config& config) {
  const std::string kind = config.get_string("unit");
  if (kind == "feature") {
    if (!config.has("features"))
      throw ConfigError("features", "unit 'feature' needs a features input");
    return;
  }
  if (!config.has("activations"))
    throw ConfigError("activations", "unit '" + kind + "' needs an activations input");
  if (config.input_dataset("activations").empty())
    throw ConfigError("activations", "unit '" + kind + "' needs a hook: activations: LABEL:HOOK");
  if (kind == "probe" && config.get_string("probe").empty())
    throw ConfigError("probe", "unit 'probe' needs a probe file");
}

UnitValues read_unit_values(const UnitSpec& unit, const Product& source,
                            std::uint64_t chunk_games) {
  SingleRank one;
  return read_unit_values(unit, source, one, chunk_games);
}

UnitValues read_unit_values(const UnitSpec& unit, const Product& source, Ranks& ranks,
                            std::uint64_t chunk_games) {
  UnitValues out;
  std::vector<float> mine;  // this rank's share, game-major
  // Calls read(first, count) for the chunks of this rank's share of `games` games.
  const auto each_chunk = [&](std::uint64_t games, const auto& read) {
    const RowShare share = ranks.share(games, chunk_games);
    for (std::uint64_t first = share.begin; first < share.end; first += chunk_games) {
      read(first, std::min(chunk_games, share.end - first));
    }
  };
  if (unit.kind == "feature") {
    const FeatureReader reader(source);
    out.games = reader.games();
    out.positions = reader.span();
    each_chunk(out.games, [&](std::uint64_t first, std::uint64_t count) {
      const auto v = reader.read_unit(first, count, unit.index);
      mine.insert(mine.end(), v.begin(), v.end());
    });
  } else if (unit.kind == "neuron") {
    const ActivationReader reader(source, unit.hook);
    out.games = reader.games();
    out.positions = reader.span();
    each_chunk(out.games, [&](std::uint64_t first, std::uint64_t count) {
      const auto v = reader.read_unit(first, count, unit.index);
      mine.insert(mine.end(), v.begin(), v.end());
    });
  } else {
    const ActivationReader reader(source, unit.hook);
    out.games = reader.games();
    out.positions = reader.span();
    const Probe probe = load_probe(unit.probe, unit.normalise);
    if (probe.d_model != reader.width()) {
      throw DataError("probe d_model " + std::to_string(probe.d_model) + " != width " +
                      std::to_string(reader.width()) + " of hook '" + unit.hook + "'");
    }
    const auto& dir = unit.direction == "blank" ? probe.blank_dir : probe.mine_dir;
    const auto d_model = static_cast<std::size_t>(probe.d_model);
    each_chunk(out.games, [&](std::uint64_t first, std::uint64_t count) {
      const auto x = reader.read(first, count);
      for (std::size_t r = 0; r < x.size() / d_model; ++r) {
        double dot = 0;
        for (std::size_t d = 0; d < d_model; ++d) {
          dot += double{x[r * d_model + d]} * dir[d * 64 + static_cast<std::size_t>(unit.square)];
        }
        mine.push_back(static_cast<float>(dot));
      }
    });
  }
  out.values = ranks.size() > 1 ? gather_concat(ranks, mine) : std::move(mine);
  return out;
}

}  // namespace othrun::analysis
