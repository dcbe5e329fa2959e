// Directions to compare with the probe: SAE decoder rows / encoder columns or a tensor's rows or
// columns (a .pth read with othrun/pth.hpp).
#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/error.hpp>
#include <othrun/pth.hpp>

namespace othrun::analysis {

Directions load_directions(const std::filesystem::path& path, const std::string& source,
                           const std::string& tensor, std::int64_t axis) {
  Directions d;
  if (source == "sae_decoder" || source == "sae_encoder") {
    const Sae sae = load_sae(path);
    d.count = sae.d_sae;
    d.dim = sae.d_in;
    if (source == "sae_decoder") {
      d.rows = sae.W_dec;
    } else {
      d.rows.resize(sae.W_enc.size());
      for (std::int64_t i = 0; i < sae.d_in; ++i) {
        for (std::int64_t f = 0; f < sae.d_sae; ++f)
          d.rows[static_cast<std::size_t>(f * sae.d_in + i)] =
              sae.W_enc[static_cast<std::size_t>(i * sae.d_sae + f)];
      }
    }
    return d;
  }
  const PthFile file = load_pth(path);
  const HostTensor& t = file.tensor(tensor);
  if (t.dim() != 2) throw DataError(path.string() + ": " + tensor + " is not 2-D");
  const auto v = t.to_vector<float>();
  const std::int64_t r = t.shape()[0], c = t.shape()[1];
  d.count = axis == 0 ? r : c;
  d.dim = axis == 0 ? c : r;
  d.rows.resize(v.size());
  for (std::int64_t i = 0; i < r; ++i) {
    for (std::int64_t j = 0; j < c; ++j) {
      const float x = v[static_cast<std::size_t>(i * c + j)];
      if (axis == 0)
        d.rows[static_cast<std::size_t>(i * c + j)] = x;
      else
        d.rows[static_cast<std::size_t>(j * r + i)] = x;
    }
  }
  return d;
}

}  // namespace othrun::analysis
