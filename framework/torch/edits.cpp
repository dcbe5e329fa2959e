// Edits of a run (othrun/torch/edits.hpp) applied inside the forward. Every edit works on a copy:
// the activation it receives may be shared with a cache record, which is never modified.
#include <ATen/ATen.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <othrun/error.hpp>
#include <othrun/torch/hooks.hpp>
#include <othrun/torch_bridge.hpp>
#include "aten_model.hpp"

namespace othrun::gpt {

Edit Edit::add(std::string hook, HostTensor vector, Positions positions) {
  Edit e;
  e.kind = EditKind::Add;
  e.hook = std::move(hook);
  e.vector = std::move(vector);
  e.positions = std::move(positions);
  return e;
}

Edit Edit::set_along(std::string hook, HostTensor direction, std::vector<double> values,
                     Positions positions) {
  Edit e = add(std::move(hook), std::move(direction), std::move(positions));
  e.kind = EditKind::SetAlong;
  e.values = std::move(values);
  return e;
}

Edit Edit::scale_along(std::string hook, HostTensor direction, std::vector<double> factors,
                       Positions positions) {
  Edit e =
      set_along(std::move(hook), std::move(direction), std::move(factors), std::move(positions));
  e.kind = EditKind::ScaleAlong;
  return e;
}

Edit Edit::replace(std::string hook, HostTensor source, Positions positions) {
  Edit e;
  e.kind = EditKind::Replace;
  e.hook = std::move(hook);
  e.source = std::move(source);
  e.positions = std::move(positions);
  return e;
}

Edit Edit::sae_features(std::string hook, std::shared_ptr<const analysis::Sae> sae,
                        std::vector<FeatureEdit> features, Positions positions) {
  Edit e;
  e.kind = EditKind::SaeFeatures;
  e.hook = std::move(hook);
  e.sae = std::move(sae);
  e.features = std::move(features);
  e.positions = std::move(positions);
  return e;
}

namespace detail {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// [batch, head, query, key] hooks: the query axis is the position axis.
bool is_score_hook(const std::string& hook) {
  return ends_with(hook, "attn.hook_attn_scores") || ends_with(hook, "attn.hook_pattern");
}
bool has_head_axis(const std::string& hook) {
  return is_score_hook(hook) || ends_with(hook, "attn.hook_q") || ends_with(hook, "attn.hook_k") ||
         ends_with(hook, "attn.hook_v") || ends_with(hook, "attn.hook_z");
}

// The activation as [batch, pos, heads, d] (heads = 1 without a head axis), a view.
at::Tensor canonical(const at::Tensor& x, const std::string& hook) {
  if (is_score_hook(hook)) return x.permute({0, 2, 1, 3});
  if (has_head_axis(hook)) return x;
  return x.unsqueeze(2);
}
at::Tensor from_canonical(const at::Tensor& c, const std::string& hook) {
  if (is_score_hook(hook)) return c.permute({0, 2, 1, 3});
  if (has_head_axis(hook)) return c;
  return c.squeeze(2);
}

const char* kind_name(EditKind kind) {
  switch (kind) {
    case EditKind::Add:
      return "add";
    case EditKind::SetAlong:
      return "set_along";
    case EditKind::ScaleAlong:
      return "scale_along";
    case EditKind::Replace:
      return "replace";
    case EditKind::SaeFeatures:
      return "sae_features";
  }
  return "?";
}

std::string shape_text(at::IntArrayRef sizes) {
  return fmt::format("[{}]", fmt::join(sizes, ", "));
}

// The selected sites: flat indices row * n_pos + pos, and the row of each.
struct Sites {
  std::vector<std::int64_t> flat, rows;
};

Sites select_sites(const Positions& p, std::int64_t batch, std::int64_t n_pos,
                   const std::string& where) {
  if (!p.list.empty() && !p.per_row.empty())
    throw Error(where + ": give positions as a list or one per row, not both");
  Sites s;
  auto check_pos = [&](std::int64_t pos) {
    if (pos < 0 || pos >= n_pos)
      throw Error(fmt::format("{}: position {} outside 0..{}", where, pos, n_pos - 1));
  };
  if (!p.per_row.empty()) {
    if (static_cast<std::int64_t>(p.per_row.size()) != batch)
      throw Error(fmt::format("{}: {} per-row positions for a batch of {}", where, p.per_row.size(),
                              batch));
    for (std::int64_t r = 0; r < batch; ++r) {
      const std::int64_t pos = p.per_row[static_cast<std::size_t>(r)];
      check_pos(pos);
      s.flat.push_back(r * n_pos + pos);
      s.rows.push_back(r);
    }
    return s;
  }
  std::vector<std::int64_t> positions = p.list;
  if (positions.empty()) {
    for (std::int64_t i = 0; i < n_pos; ++i) positions.push_back(i);
  }
  if (std::set<std::int64_t>(positions.begin(), positions.end()).size() != positions.size())
    throw Error(where + ": a position is listed twice");
  for (std::int64_t pos : positions) check_pos(pos);
  for (std::int64_t r = 0; r < batch; ++r) {
    for (std::int64_t pos : positions) {
      s.flat.push_back(r * n_pos + pos);
      s.rows.push_back(r);
    }
  }
  return s;
}

at::Tensor long_tensor(const std::vector<std::int64_t>& v) {
  return at::tensor(at::ArrayRef<std::int64_t>(v), at::kLong);
}

// A vector [d] or [batch, d] as one row per site [sites, 1, d].
at::Tensor per_site_vector(const Edit& e, const at::Tensor& site_rows, std::int64_t batch,
                           std::int64_t d, const std::string& where) {
  const at::Tensor v = to_torch(e.vector).to(at::kFloat);
  if (v.dim() == 1 && v.size(0) == d) return v.view({1, 1, d});
  if (v.dim() == 2 && v.size(0) == batch && v.size(1) == d)
    return v.index_select(0, site_rows).unsqueeze(1);
  throw Error(fmt::format("{}: the vector must be [{}] or [{}, {}], got {}", where, d, batch, d,
                          shape_text(v.sizes())));
}

// `values` as [sites, 1, 1].
at::Tensor per_site_values(const Edit& e, const at::Tensor& site_rows, std::int64_t batch,
                           const std::string& where) {
  const auto n = static_cast<std::int64_t>(e.values.size());
  if (n != 1 && n != batch)
    throw Error(
        fmt::format("{}: {} values for a batch of {} (give 1 or one per row)", where, n, batch));
  const at::Tensor v = at::tensor(at::ArrayRef<double>(e.values), at::kDouble).to(at::kFloat);
  if (n == 1) return v.view({1, 1, 1});
  return v.index_select(0, site_rows).view({-1, 1, 1});
}

// Unit directions [sites, 1, d]; a zero direction is an error.
at::Tensor unit(const at::Tensor& direction, const std::string& where) {
  const at::Tensor norm = direction.to(at::kDouble).norm(2, -1, /*keepdim=*/true);
  if (norm.min().item<double>() == 0) throw Error(where + ": the direction is zero");
  return (direction.to(at::kDouble) / norm).to(at::kFloat);
}

// SAE feature edits of `x` [n, d_in]: returns the new rows.
at::Tensor sae_edit(const Edit& e, const at::Tensor& x, const std::string& where) {
  const analysis::Sae& sae = *e.sae;
  if (x.size(1) != sae.d_in)
    throw Error(fmt::format("{}: the SAE's d_in is {}, the hook's last axis {}", where, sae.d_in,
                            x.size(1)));
  const at::Tensor xc = x.contiguous();
  at::Tensor f = at::empty({x.size(0), sae.d_sae}, at::kFloat);
  sae.encode(xc.data_ptr<float>(), x.size(0), f.data_ptr<float>());
  at::Tensor edited = f.clone();
  for (const FeatureEdit& fe : e.features) {
    at::Tensor col = edited.select(1, fe.feature);
    if (fe.op == FeatureEdit::Op::Set) {
      col.fill_(fe.value);
    } else {
      col.mul_(fe.value);
    }
  }
  // W_dec [d_sae, d_in] and b_dec viewed in place: the SAE outlives the call.
  const at::Tensor W_dec =
      at::from_blob(const_cast<float*>(sae.W_dec.data()), {sae.d_sae, sae.d_in}, at::kFloat);
  if (!e.keep_error) {
    const at::Tensor b_dec =
        at::from_blob(const_cast<float*>(sae.b_dec.data()), {sae.d_in}, at::kFloat);
    return at::addmm(b_dec, edited, W_dec);
  }
  // decode(f') + (x - decode(f)) = x + (f' - f) W_dec, over the edited features only: the sum is
  // exactly zero when no feature changed, so an edit that changes nothing changes no bit.
  std::vector<std::int64_t> touched;
  for (const FeatureEdit& fe : e.features) touched.push_back(fe.feature);
  std::sort(touched.begin(), touched.end());
  touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
  if (touched.empty()) return xc.clone();
  const at::Tensor idx = long_tensor(touched);
  const at::Tensor diff = edited.index_select(1, idx) - f.index_select(1, idx);
  return xc + at::matmul(diff, W_dec.index_select(0, idx));
}

void check_edit(const Edit& e, const ModelConfig& c, const std::string& where) {
  if (e.kind == EditKind::Replace && e.and_later_layers)
    throw Error(where +
                ": replace takes one hook's activations; give one edit per layer instead "
                "of and_later_layers");
  if (e.and_later_layers && hook_layer(e.hook) < 0)
    throw Error(where + ": and_later_layers needs a hook of a block (blocks.L.*)");
  if (!e.heads.empty() && !has_head_axis(e.hook))
    throw Error(where + ": heads given, but the hook has no head axis");
  for (std::int64_t h : e.heads) {
    if (h < 0 || h >= c.n_heads)
      throw Error(fmt::format("{}: head {} outside 0..{}", where, h, c.n_heads - 1));
  }
  if (std::set<std::int64_t>(e.heads.begin(), e.heads.end()).size() != e.heads.size())
    throw Error(where + ": a head is listed twice");
  if (e.kind == EditKind::SaeFeatures) {
    if (!e.sae) throw Error(where + ": no SAE given");
    for (const FeatureEdit& fe : e.features) {
      if (fe.feature < 0 || fe.feature >= e.sae->d_sae)
        throw Error(
            fmt::format("{}: feature {} outside 0..{}", where, fe.feature, e.sae->d_sae - 1));
    }
  }
  if ((e.kind == EditKind::SetAlong || e.kind == EditKind::ScaleAlong) && e.values.empty())
    throw Error(where + ": no value given");
  // The masked scores are -inf: their component along any direction is undefined (NaN).
  if ((e.kind == EditKind::SetAlong || e.kind == EditKind::ScaleAlong) &&
      ends_with(e.hook, "attn.hook_attn_scores"))
    throw Error(where +
                ": the masked attention scores are -inf, so a component along a direction "
                "is undefined; edit attn.hook_pattern or use add/replace");
}

}  // namespace

Editor::Editor(const std::vector<Edit>& edits, const ModelConfig& c) {
  const auto known = all_hook_names(c.n_layers);
  for (std::size_t i = 0; i < edits.size(); ++i) {
    const Edit& e = edits[i];
    const std::string where = fmt::format("edit {} ({} at {})", i, kind_name(e.kind), e.hook);
    if (std::find(known.begin(), known.end(), e.hook) == known.end())
      throw Error(fmt::format("{}: unknown hook for a model with {} layers", where, c.n_layers));
    check_edit(e, c, where);
    by_hook_[e.hook].push_back({&e, where});
    if (!e.and_later_layers) continue;
    const std::int64_t layer = hook_layer(e.hook);
    const std::string prefix = fmt::format("blocks.{}.", layer);
    const std::string suffix = e.hook.substr(prefix.size());
    for (std::int64_t l = layer + 1; l < c.n_layers; ++l) {
      by_hook_[fmt::format("blocks.{}.{}", l, suffix)].push_back({&e, where});
    }
  }
}

bool Editor::touches(const std::string& hook) const { return by_hook_.count(hook) != 0; }

at::Tensor Editor::apply(const std::string& hook, const at::Tensor& x) const {
  auto it = by_hook_.find(hook);
  if (it == by_hook_.end()) return x;
  at::Tensor out = x;
  for (const auto& [edit, where] : it->second) out = apply_one(*edit, where, hook, out);
  return out;
}

at::Tensor Editor::apply_one(const Edit& e, const std::string& where_edit, const std::string& hook,
                             const at::Tensor& x) const {
  const std::string where = hook == e.hook ? where_edit : where_edit + " at " + hook;
  // A fresh contiguous [batch, pos, heads, d] copy that the edit writes into.
  at::Tensor work = canonical(x, hook).clone(at::MemoryFormat::Contiguous);
  const std::int64_t batch = work.size(0), n_pos = work.size(1), n_heads = work.size(2),
                     d = work.size(3);
  const Sites sites = select_sites(e.positions, batch, n_pos, where);
  const at::Tensor flat_idx = long_tensor(sites.flat), site_rows = long_tensor(sites.rows);
  at::Tensor flat = work.view({batch * n_pos, n_heads, d});
  at::Tensor rows = flat.index_select(0, flat_idx);  // [sites, heads, d]
  const at::Tensor head_idx = e.heads.empty() ? at::Tensor() : long_tensor(e.heads);
  at::Tensor sel = head_idx.defined() ? rows.index_select(1, head_idx) : rows;

  at::Tensor edited;
  switch (e.kind) {
    case EditKind::Add:
      edited = sel + per_site_vector(e, site_rows, batch, d, where);
      break;
    case EditKind::SetAlong:
    case EditKind::ScaleAlong: {
      const at::Tensor u = unit(per_site_vector(e, site_rows, batch, d, where), where);
      const at::Tensor values = per_site_values(e, site_rows, batch, where);
      const at::Tensor component = (sel * u).sum(-1, /*keepdim=*/true);
      const at::Tensor amount =
          e.kind == EditKind::SetAlong ? values - component : (values - 1) * component;
      edited = sel + amount * u;
      break;
    }
    case EditKind::Replace: {
      const at::Tensor source = to_torch(e.source);
      if (source.sizes() != x.sizes())
        throw Error(fmt::format("{}: the source is {}, the activation {}", where,
                                shape_text(source.sizes()), shape_text(x.sizes())));
      at::Tensor src = canonical(source.to(at::kFloat), hook)
                           .contiguous()
                           .view({batch * n_pos, n_heads, d})
                           .index_select(0, flat_idx);
      edited = head_idx.defined() ? src.index_select(1, head_idx) : src;
      break;
    }
    case EditKind::SaeFeatures: {
      const auto n_sel = sel.size(1);
      edited = sae_edit(e, sel.reshape({-1, d}), where).view({-1, n_sel, d});
      break;
    }
  }
  if (head_idx.defined()) {
    rows.index_copy_(1, head_idx, edited);
  } else {
    rows = edited;
  }
  flat.index_copy_(0, flat_idx, rows.contiguous());
  return from_canonical(work, hook);
}

}  // namespace detail
}  // namespace othrun::gpt
