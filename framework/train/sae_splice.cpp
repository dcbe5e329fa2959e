#include <othrun/train/sae_splice.hpp>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <othrun/train/gpt.hpp>

namespace othrun::train {

namespace {

at::Tensor tensor_of(const std::vector<float>& v, at::IntArrayRef shape) {
  return at::from_blob(const_cast<float*>(v.data()), shape, at::kFloat);
}

// The SAE's reconstruction of x [..., d_in].
at::Tensor reconstruct(const at::Tensor& x, const SaeWeights& w, const std::string& architecture,
                       std::int64_t k) {
  const at::Tensor flat = x.reshape({-1, w.d_in});
  const at::Tensor b_dec = tensor_of(w.b_dec, {w.d_in});
  const at::Tensor pre =
      at::addmm(tensor_of(w.b_enc, {w.d_sae}), flat - b_dec, tensor_of(w.W_enc, {w.d_in, w.d_sae}));
  at::Tensor acts = at::relu(pre);
  if (architecture == "topk") {
    const auto top = pre.topk(std::min(k, w.d_sae), -1);
    acts = at::zeros_like(pre).scatter(-1, std::get<1>(top), at::relu(std::get<0>(top)));
  }
  return at::addmm(b_dec, acts, tensor_of(w.W_dec, {w.d_sae, w.d_in})).view(x.sizes());
}

}  // namespace

SpliceLoss spliced_loss(const SpliceRequest& request, const SaeWeights& sae,
                        const std::vector<std::int64_t>& tokens) {
  at::set_num_threads(std::max(1, request.threads));
  at::NoGradGuard no_grad;
  const auto loaded = gpt::HookedTransformer::from_file(request.model, request.load);
  const Gpt model(loaded.config(), loaded.state_dict(), request.model.string());
  const auto games = static_cast<std::int64_t>(tokens.size() / 60);
  const at::Tensor all =
      at::from_blob(const_cast<std::int64_t*>(tokens.data()), {games, 60}, at::kLong);
  const Splice splice = [&](const at::Tensor& value) {
    const std::int64_t end = std::min(request.pos_end, value.size(1));
    at::Tensor out = value.clone();
    out.narrow(1, request.pos_begin, end - request.pos_begin)
        .copy_(reconstruct(value.narrow(1, request.pos_begin, end - request.pos_begin), sae,
                           request.architecture, request.k));
    return out;
  };
  SpliceLoss loss;
  double targets = 0;
  for (std::int64_t first = 0; first < games; first += 100) {
    const at::Tensor batch = all.narrow(0, first, std::min<std::int64_t>(100, games - first));
    const double n = batch.narrow(1, 1, 59).ne(0).sum().item<double>();
    loss.clean += next_move_loss(model, batch).loss.item<double>() * n;
    loss.spliced += next_move_loss(model, batch, request.hook, splice).loss.item<double>() * n;
    targets += n;
  }
  loss.clean /= targets;
  loss.spliced /= targets;
  return loss;
}

}  // namespace othrun::train
