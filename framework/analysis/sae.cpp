// SAE forward passes, as sae_training and SAELens compute them (docs/analyses.md, "SAE files").
#include <othrun/analysis/sae.hpp>

#include <othrun/analysis/gemm.hpp>
#include <othrun/error.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace othrun::analysis {

const char* to_string(SaeArchitecture architecture) {
  switch (architecture) {
    case SaeArchitecture::Standard:
      return "standard";
    case SaeArchitecture::TopK:
      return "topk";
    case SaeArchitecture::JumpReLU:
      return "jumprelu";
    case SaeArchitecture::Gated:
      return "gated";
  }
  return "?";
}

namespace {

void expect_size(const std::vector<float>& v, std::int64_t size, const char* name,
                 const std::string& source) {
  if (static_cast<std::int64_t>(v.size()) != size) {
    throw DataError(source + ": " + name + " has " + std::to_string(v.size()) +
                    " values, expected " + std::to_string(size));
  }
}

// Keeps the k largest entries of a row (then ReLU), as SAELens' TopK: topk, relu, scatter.
void keep_topk(float* row, std::int64_t d_sae, std::int64_t k, std::vector<std::int32_t>& order) {
  order.resize(static_cast<std::size_t>(d_sae));
  std::iota(order.begin(), order.end(), 0);
  const auto kk = static_cast<std::ptrdiff_t>(std::min(k, d_sae));
  std::nth_element(
      order.begin(), order.begin() + kk, order.end(),
      [row](std::int32_t a, std::int32_t b) { return row[a] != row[b] ? row[a] > row[b] : a < b; });
  std::vector<float> kept(static_cast<std::size_t>(kk));
  for (std::ptrdiff_t i = 0; i < kk; ++i)
    kept[static_cast<std::size_t>(i)] = row[order[static_cast<std::size_t>(i)]];
  std::fill(row, row + d_sae, 0.0f);
  for (std::ptrdiff_t i = 0; i < kk; ++i) {
    row[order[static_cast<std::size_t>(i)]] = std::max(kept[static_cast<std::size_t>(i)], 0.0f);
  }
}

}  // namespace

void Sae::check(const std::string& source) const {
  if (d_in <= 0 || d_sae <= 0) throw DataError(source + ": d_in and d_sae must be positive");
  expect_size(W_enc, d_in * d_sae, "W_enc", source);
  expect_size(W_dec, d_sae * d_in, "W_dec", source);
  expect_size(b_dec, d_in, "b_dec", source);
  if (architecture == SaeArchitecture::Gated) {
    expect_size(b_gate, d_sae, "b_gate", source);
    expect_size(b_mag, d_sae, "b_mag", source);
    expect_size(r_mag, d_sae, "r_mag", source);
  } else {
    expect_size(b_enc, d_sae, "b_enc", source);
  }
  if (architecture == SaeArchitecture::JumpReLU) expect_size(threshold, d_sae, "threshold", source);
  if (architecture == SaeArchitecture::TopK && k <= 0)
    throw DataError(source + ": topk needs k > 0");
}

void Sae::encode(const float* x, std::int64_t rows, float* acts) const {
  // sae_in = x - b_dec (sae_training always; SAELens when apply_b_dec_to_input)
  std::vector<float> sae_in(x, x + rows * d_in);
  if (apply_b_dec_to_input) {
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t d = 0; d < d_in; ++d)
        sae_in[static_cast<std::size_t>(r * d_in + d)] -= b_dec[static_cast<std::size_t>(d)];
    }
  }
  gemm(rows, d_sae, d_in, sae_in.data(), W_enc.data(), acts);
  std::vector<float> exp_r;
  if (architecture == SaeArchitecture::Gated) {
    exp_r.resize(static_cast<std::size_t>(d_sae));
    for (std::size_t f = 0; f < exp_r.size(); ++f) exp_r[f] = std::exp(r_mag[f]);
  }
  std::vector<std::int32_t> order;
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = acts + r * d_sae;
    for (std::int64_t f = 0; f < d_sae; ++f) {
      const auto i = static_cast<std::size_t>(f);
      const float h = row[f];
      switch (architecture) {
        case SaeArchitecture::Standard:
        case SaeArchitecture::TopK:
          row[f] = h + b_enc[i];
          break;
        case SaeArchitecture::JumpReLU: {
          const float pre = h + b_enc[i];
          row[f] = pre > threshold[i] ? std::max(pre, 0.0f) : 0.0f;
          break;
        }
        case SaeArchitecture::Gated: {
          // sae_in @ (W_enc * exp(r_mag)) == (sae_in @ W_enc) * exp(r_mag), column by column.
          const float magnitude = std::max(h * exp_r[i] + b_mag[i], 0.0f);
          row[f] = (h + b_gate[i]) > 0.0f ? magnitude : 0.0f;
          break;
        }
      }
      if (architecture == SaeArchitecture::Standard) row[f] = std::max(row[f], 0.0f);
    }
    if (architecture == SaeArchitecture::TopK) keep_topk(row, d_sae, k, order);
  }
}

void Sae::decode(const float* acts, std::int64_t rows, float* out) const {
  for (std::int64_t r = 0; r < rows; ++r) std::copy(b_dec.begin(), b_dec.end(), out + r * d_in);
  gemm(rows, d_in, d_sae, acts, W_dec.data(), out, false, 1.0f, 1.0f);
}

SaeMetrics::SaeMetrics(std::int64_t d_in, std::int64_t d_sae)
    : d_in_(d_in),
      sum_x_(static_cast<std::size_t>(d_in), 0.0),
      sum_xx_(static_cast<std::size_t>(d_in), 0.0),
      fired_(static_cast<std::size_t>(d_sae), 0) {}

void SaeMetrics::consume(const float* x, const float* out, const SparseRows& acts) {
  const std::int64_t rows = acts.rows();
  if (rows == 0) return;
  const auto d = static_cast<std::size_t>(d_in_);
  std::vector<double> batch_mean(d, 0.0);
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::size_t i = 0; i < d; ++i) {
      const double v = x[static_cast<std::size_t>(r) * d + i];
      batch_mean[i] += v;
      sum_x_[i] += v;
      sum_xx_[i] += v * v;
    }
  }
  for (double& m : batch_mean) m /= static_cast<double>(rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<std::size_t>(r) * d;
    const float* o = out + static_cast<std::size_t>(r) * d;
    double centred = 0, err = 0;
    for (std::size_t i = 0; i < d; ++i) {
      centred += (xr[i] - batch_mean[i]) * (xr[i] - batch_mean[i]);
      err += (double{o[i]} - xr[i]) * (double{o[i]} - xr[i]);
    }
    sq_err_ += err;
    sae_training_sum_ += err / std::sqrt(centred);
  }
  for (std::int64_t i = 0; i < acts.nnz(); ++i) {
    if (acts.value[static_cast<std::size_t>(i)] > 0)
      ++fired_[static_cast<std::size_t>(acts.index[static_cast<std::size_t>(i)])];
  }
  nnz_ += static_cast<std::uint64_t>(acts.nnz());
  rows_ += static_cast<std::uint64_t>(rows);
}

void SaeMetrics::merge(const SaeMetrics& right) {
  if (right.d_in_ != d_in_ || right.fired_.size() != fired_.size()) {
    throw Error("SaeMetrics::merge: metrics of another SAE shape");
  }
  rows_ += right.rows_;
  nnz_ += right.nnz_;
  sq_err_ += right.sq_err_;
  sae_training_sum_ += right.sae_training_sum_;
  for (std::size_t i = 0; i < sum_x_.size(); ++i) {
    sum_x_[i] += right.sum_x_[i];
    sum_xx_[i] += right.sum_xx_[i];
  }
  for (std::size_t f = 0; f < fired_.size(); ++f) fired_[f] += right.fired_[f];
}

void SaeMetrics::save(ByteWriter& out) const {
  out.put(d_in_).put(rows_).put(nnz_).put(sq_err_).put(sae_training_sum_);
  out.put(sum_x_).put(sum_xx_).put(fired_);
}

SaeMetrics SaeMetrics::load(ByteReader& in) {
  const auto d_in = in.get<std::int64_t>();
  SaeMetrics m(d_in, 0);
  m.rows_ = in.get<std::uint64_t>();
  m.nnz_ = in.get<std::uint64_t>();
  m.sq_err_ = in.get<double>();
  m.sae_training_sum_ = in.get<double>();
  m.sum_x_ = in.get_vector<double>();
  m.sum_xx_ = in.get_vector<double>();
  m.fired_ = in.get_vector<std::uint64_t>();
  return m;
}

double SaeMetrics::mse() const {
  return sq_err_ / (static_cast<double>(rows_) * static_cast<double>(d_in_));
}
double SaeMetrics::mse_sae_training() const {
  return sae_training_sum_ / (static_cast<double>(rows_) * static_cast<double>(d_in_));
}
double SaeMetrics::explained_variance() const {
  double total = 0;
  const auto n = static_cast<double>(rows_);
  for (std::size_t i = 0; i < sum_x_.size(); ++i) total += sum_xx_[i] - sum_x_[i] * sum_x_[i] / n;
  return 1.0 - sq_err_ / total;
}
double SaeMetrics::l0() const { return static_cast<double>(nnz_) / static_cast<double>(rows_); }
std::int64_t SaeMetrics::dead_features() const {
  return std::count(fired_.begin(), fired_.end(), std::uint64_t{0});
}
std::vector<double> SaeMetrics::density() const {
  std::vector<double> out(fired_.size());
  for (std::size_t f = 0; f < out.size(); ++f)
    out[f] = static_cast<double>(fired_[f]) / static_cast<double>(rows_);
  return out;
}

}  // namespace othrun::analysis
