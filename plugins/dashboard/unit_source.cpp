#include "unit_source.hpp"

#include <othrun/error.hpp>
#include <othrun/othello.hpp>
#include <othrun/progress.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace othrun::dashboard {

namespace {

// L of a blocks.L.* hook, else -1.
int hook_layer(const std::string& hook) {
  constexpr std::string_view prefix = "blocks.";
  if (!hook.starts_with(prefix)) return -1;
  int layer = -1;
  const char* first = hook.data() + prefix.size();
  const char* last = hook.data() + hook.size();
  const auto [end, ec] = std::from_chars(first, last, layer);
  if (ec != std::errc() || end == first || end == last || *end != '.') return -1;
  return layer;
}

}  // namespace

UnitSource UnitSource::features(const Product& features) {
  UnitSource s;
  s.kind_ = UnitKind::Feature;
  s.label_ = features.label();
  s.features_.emplace(features);
  s.units_ = s.features_->d_sae();
  s.games_ = s.features_->games();
  s.span_ = s.features_->span();
  return s;
}

UnitSource UnitSource::neurons(const Product& activations, const std::string& hook) {
  UnitSource s;
  s.kind_ = UnitKind::Neuron;
  s.label_ = activations.label();
  s.hook_ = hook;
  s.activations_.emplace(activations, hook);
  s.units_ = s.activations_->width();
  s.games_ = s.activations_->games();
  s.span_ = s.activations_->span();
  return s;
}

UnitSource UnitSource::probe(const Product& activations, const std::string& hook,
                             analysis::Probe probe, const std::string& direction) {
  UnitSource s = neurons(activations, hook);
  if (probe.d_model != s.units_) {
    throw DataError(fmt::format(
        "the probe's d_model is {}, but hook '{}' of product '{}' holds {} values per position: "
        "a probe applies to a residual-stream hook of the same model",
        probe.d_model, hook, activations.label(), s.units_));
  }
  s.kind_ = UnitKind::Probe;
  s.units_ = 64;
  s.probe_ = std::move(probe);
  s.direction_ = direction;
  return s;
}

std::string UnitSource::unit_name(std::int64_t unit) const {
  switch (kind_) {
    case UnitKind::Feature:
      return fmt::format("feature {}", unit);
    case UnitKind::Neuron: {
      const int layer = hook_layer(hook_);
      return layer < 0 ? fmt::format("neuron {}", unit) : fmt::format("L{}N{}", layer, unit);
    }
    case UnitKind::Probe:
      return fmt::format("probe {} {}", direction_, othello::square_label(static_cast<int>(unit)));
  }
  return "?";
}

std::string UnitSource::description() const {
  switch (kind_) {
    case UnitKind::Feature:
      return fmt::format("SAE features of '{}' ({} features)", label_, units_);
    case UnitKind::Neuron:
      return fmt::format("neurons of {} in '{}' ({} neurons)", hook_, label_, units_);
    case UnitKind::Probe:
      return fmt::format("probe {}_dir of each square on {} in '{}' (64 directions)", direction_,
                         hook_, label_);
  }
  return "?";
}

std::vector<float> UnitSource::read_block(std::int64_t first, std::int64_t count,
                                          std::uint64_t chunk_games) const {
  std::vector<float> out(static_cast<std::size_t>(count) * rows(), 0.0f);
  if (kind_ == UnitKind::Feature) {
    read_features(first, count, chunk_games, out);
  } else {
    read_dense(first, count, chunk_games, out);
  }
  return out;
}

void UnitSource::read_features(std::int64_t first, std::int64_t count, std::uint64_t chunk_games,
                               std::vector<float>& out) const {
  const std::size_t total = rows();
  for (std::uint64_t g = 0; g < games_; g += chunk_games) {
    const std::uint64_t n = std::min(chunk_games, games_ - g);
    const analysis::SparseRows chunk = features_->read(g, n);
    const std::size_t row0 = g * static_cast<std::uint64_t>(span_.count);
    for (std::int64_t r = 0; r < chunk.rows(); ++r) {
      for (auto e = chunk.row_ptr[static_cast<std::size_t>(r)];
           e < chunk.row_ptr[static_cast<std::size_t>(r) + 1]; ++e) {
        const std::int64_t f = chunk.index[static_cast<std::size_t>(e)];
        if (f < first || f >= first + count) continue;
        out[static_cast<std::size_t>(f - first) * total + row0 + static_cast<std::size_t>(r)] =
            chunk.value[static_cast<std::size_t>(e)];
      }
    }
    check_interrupt();
  }
}

void UnitSource::read_dense(std::int64_t first, std::int64_t count, std::uint64_t chunk_games,
                            std::vector<float>& out) const {
  const std::size_t total = rows();
  const auto width = static_cast<std::size_t>(activations_->width());
  for (std::uint64_t g = 0; g < games_; g += chunk_games) {
    const std::uint64_t n = std::min(chunk_games, games_ - g);
    const std::vector<float> x = activations_->read(g, n);
    const std::size_t chunk_rows = x.size() / width;
    const std::size_t row0 = g * static_cast<std::uint64_t>(span_.count);
    for (std::size_t r = 0; r < chunk_rows; ++r) {
      const float* row = x.data() + r * width;
      for (std::int64_t u = 0; u < count; ++u) {
        float value;
        if (kind_ == UnitKind::Neuron) {
          value = row[static_cast<std::size_t>(first + u)];
        } else {
          // Probe: the projection on square (first + u)'s direction, summed in double.
          const auto& dir = direction_ == "blank" ? probe_->blank_dir : probe_->mine_dir;
          double dot = 0;
          for (std::size_t d = 0; d < width; ++d)
            dot += double{row[d]} * dir[d * 64 + static_cast<std::size_t>(first + u)];
          value = static_cast<float>(dot);
        }
        out[static_cast<std::size_t>(u) * total + row0 + r] = value;
      }
    }
    check_interrupt();
  }
}

}  // namespace othrun::dashboard
