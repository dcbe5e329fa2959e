#include "sweep.hpp"

#include <othrun/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace othrun::patching {

bool is_head_kind(const std::string& kind) { return kind == "head_out"; }

std::string patch_hook(const std::string& kind, std::int64_t layer) {
  if (kind == "head_out") return fmt::format("blocks.{}.attn.hook_z", layer);
  return fmt::format("blocks.{}.hook_{}", layer, kind);
}

namespace {

using Clock = std::chrono::steady_clock;

// Tokens [count, n_pos] of pairs [first, first + count), clean or corrupted.
HostTensor tokens_of(const std::vector<GamePair>& pairs, std::uint64_t first, std::uint64_t count,
                     std::int64_t n_pos, bool clean) {
  HostTensor out(DType::Int64, {static_cast<std::int64_t>(count), n_pos});
  auto* dst = reinterpret_cast<std::int64_t*>(out.mutable_data());
  for (std::uint64_t i = 0; i < count; ++i) {
    const GamePair& p = pairs[first + i];
    const auto& src = clean ? p.clean_tokens : p.corrupted_tokens;
    std::copy_n(src.begin(), n_pos, dst + i * static_cast<std::uint64_t>(n_pos));
  }
  return out;
}

// Rows `rows` of `t` ([chunk, ...], contiguous): [rows.size(), ...].
HostTensor gather(const HostTensor& t, const std::vector<std::int64_t>& rows) {
  HostTensor::Shape shape = t.shape();
  const std::size_t row_bytes = t.nbytes() / static_cast<std::size_t>(shape.at(0));
  shape[0] = static_cast<std::int64_t>(rows.size());
  HostTensor out(t.dtype(), shape);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(out.mutable_data() + i * row_bytes,
                t.data() + static_cast<std::size_t>(rows[i]) * row_bytes, row_bytes);
  }
  return out;
}

// Head `head` of z rows ([rows, pos, heads, d_head]) set to the clean activation's.
void put_head(HostTensor& z, const HostTensor& clean_z, const std::vector<std::int64_t>& rows,
              const std::vector<std::int64_t>& heads) {
  const auto& s = z.shape();
  const std::int64_t n_pos = s[1], n_heads = s[2], d_head = s[3];
  auto* dst = reinterpret_cast<float*>(z.mutable_data());
  const auto* src = clean_z.data_as<float>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    for (std::int64_t p = 0; p < n_pos; ++p) {
      const std::int64_t to =
          ((static_cast<std::int64_t>(i) * n_pos + p) * n_heads + heads[i]) * d_head;
      const std::int64_t from = ((rows[i] * n_pos + p) * n_heads + heads[i]) * d_head;
      std::copy_n(src + from, d_head, dst + to);
    }
  }
}

// The metric of each row from logits [rows, n_pos, vocab].
std::vector<double> row_metrics(const HostTensor& logits, const std::vector<PairMetric>& metrics,
                                const std::vector<int>& positions) {
  const auto n_pos = logits.shape()[1], vocab = logits.shape()[2];
  const auto* data = logits.data_as<float>();
  std::vector<double> out(metrics.size());
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const float* row = data + (static_cast<std::int64_t>(i) * n_pos + positions[i]) * vocab;
    out[i] = metric_value(metrics[i], std::span<const float>(row, static_cast<std::size_t>(vocab)));
  }
  return out;
}

class ChunkSweep {
 public:
  ChunkSweep(const gpt::HookedTransformer& model, const std::vector<GamePair>& pairs,
             const SweepSpec& spec, std::int64_t n_pos, std::uint64_t first, std::uint64_t count,
             SweepResult& result)
      : model_(model),
        pairs_(pairs),
        spec_(spec),
        n_pos_(n_pos),
        first_(first),
        count_(count),
        result_(result) {
    for (std::uint64_t i = 0; i < count; ++i) {
      metrics_.push_back(pair_metric(pairs[first + i], spec.metric));
      positions_.push_back(pairs[first + i].metric_position);
    }
  }

  void run() {
    run_baselines();
    for (const std::string& kind : spec_.kinds) {
      for (std::size_t li = 0; li < spec_.layers.size(); ++li) patch_layer(kind, li);
    }
  }

 private:
  gpt::Cache timed_run(const HostTensor& tokens, const gpt::RunRequest& request) {
    const auto start = Clock::now();
    gpt::Cache out = model_.run(tokens, request);
    result_.seconds_forward += std::chrono::duration<double>(Clock::now() - start).count();
    return out;
  }

  void run_baselines() {
    gpt::RunRequest clean, corrupted;
    clean.logits = corrupted.logits = gpt::LogitsOutput::Logits;
    for (const std::string& kind : spec_.kinds) {
      for (std::int64_t layer : spec_.layers) {
        clean.hooks.insert(patch_hook(kind, layer));
        // head_out's patched rows keep the other heads at the corrupted run's z.
        if (is_head_kind(kind)) corrupted.hooks.insert(patch_hook(kind, layer));
        if (spec_.skip_unpatched_layers) corrupted.hooks.insert(patch_hook("resid_pre", layer));
      }
    }
    clean_ = timed_run(tokens_of(pairs_, first_, count_, n_pos_, true), clean);
    corrupted_tokens_ = tokens_of(pairs_, first_, count_, n_pos_, false);
    corrupted_ = timed_run(corrupted_tokens_, corrupted);
    const auto c = row_metrics(clean_.at("logits"), metrics_, positions_);
    const auto k = row_metrics(corrupted_.at("logits"), metrics_, positions_);
    std::copy(c.begin(), c.end(), result_.clean.begin() + static_cast<std::ptrdiff_t>(first_));
    std::copy(k.begin(), k.end(), result_.corrupted.begin() + static_cast<std::ptrdiff_t>(first_));
  }

  // Every (pair, site) of one kind and layer, in forwards of batch_rows sequences.
  void patch_layer(const std::string& kind, std::size_t layer_index) {
    const std::int64_t layer = spec_.layers[layer_index];
    const bool heads = is_head_kind(kind);
    const std::int64_t sites = heads ? model_.config().n_heads : n_pos_;
    const std::string hook = patch_hook(kind, layer);
    std::vector<double>& out = result_.patched.at(kind);
    const auto n_layers = static_cast<std::int64_t>(spec_.layers.size());
    const std::int64_t total = static_cast<std::int64_t>(count_) * sites;
    for (std::int64_t begin = 0; begin < total; begin += spec_.batch_rows) {
      const std::int64_t end = std::min(total, begin + spec_.batch_rows);
      std::vector<std::int64_t> rows, site_of;  // chunk row and patched site of each sequence
      std::vector<PairMetric> metrics;
      std::vector<int> positions;
      for (std::int64_t r = begin; r < end; ++r) {
        rows.push_back(r / sites);
        site_of.push_back(r % sites);
        metrics.push_back(metrics_[static_cast<std::size_t>(r / sites)]);
        positions.push_back(positions_[static_cast<std::size_t>(r / sites)]);
      }
      gpt::RunRequest request;
      request.logits = gpt::LogitsOutput::Logits;
      if (heads) {
        // Replace z everywhere with the corrupted run's, except the patched head: the clean one.
        HostTensor source = gather(corrupted_.at(hook), rows);
        put_head(source, clean_.at(hook), rows, site_of);
        request.edits.push_back(gpt::Edit::replace(hook, std::move(source)));
      } else {
        request.edits.push_back(gpt::Edit::replace(hook, gather(clean_.at(hook), rows),
                                                   gpt::Positions::one_per_row(site_of)));
      }
      if (spec_.skip_unpatched_layers) {
        request.start_layer = layer;
        request.start_resid = gather(corrupted_.at(patch_hook("resid_pre", layer)), rows);
      }
      const gpt::Cache cache = timed_run(gather(corrupted_tokens_, rows), request);
      const std::vector<double> values = row_metrics(cache.at("logits"), metrics, positions);
      for (std::size_t i = 0; i < values.size(); ++i) {
        const auto pair = static_cast<std::int64_t>(first_) + rows[i];
        out[static_cast<std::size_t>(
            (pair * n_layers + static_cast<std::int64_t>(layer_index)) * sites + site_of[i])] =
            values[i];
      }
      result_.patched_runs += values.size();
    }
  }

  const gpt::HookedTransformer& model_;
  const std::vector<GamePair>& pairs_;
  const SweepSpec& spec_;
  std::int64_t n_pos_;
  std::uint64_t first_, count_;
  SweepResult& result_;
  std::vector<PairMetric> metrics_;
  std::vector<int> positions_;
  gpt::Cache clean_, corrupted_;
  HostTensor corrupted_tokens_;
};

}  // namespace

SweepResult run_sweep(const gpt::HookedTransformer& model, const std::vector<GamePair>& pairs,
                      const SweepSpec& spec, const ProgressFn& progress) {
  if (pairs.empty()) throw Error("activation_patching: no pairs to patch");
  SweepResult result;
  for (const GamePair& p : pairs) {
    result.n_positions = std::max<std::int64_t>(result.n_positions, p.metric_position + 1);
  }
  const std::uint64_t n = pairs.size();
  result.clean.resize(n);
  result.corrupted.resize(n);
  for (const std::string& kind : spec.kinds) {
    const std::int64_t sites = is_head_kind(kind) ? model.config().n_heads : result.n_positions;
    result.patched[kind].assign(n * spec.layers.size() * static_cast<std::uint64_t>(sites), 0.0);
  }
  for (std::uint64_t first = 0; first < n; first += spec.pairs_per_chunk) {
    const std::uint64_t count = std::min(spec.pairs_per_chunk, n - first);
    ChunkSweep(model, pairs, spec, result.n_positions, first, count, result).run();
    if (progress) progress(first + count);
  }
  return result;
}

}  // namespace othrun::patching
