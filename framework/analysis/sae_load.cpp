// Loading SAEs from sae_training files and SAELens folders.
#include <othrun/analysis/sae.hpp>

#include <othrun/error.hpp>
#include <othrun/finite.hpp>
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <fstream>

namespace othrun::analysis {

namespace {

// Tensor `name` of a .pth or safetensors file as float32 values, checked against `shape`.
template <class File>
std::vector<float> tensor_values(const File& file, const std::string& name,
                                 const std::vector<std::int64_t>& shape) {
  const HostTensor& t = file.tensor(name);  // throws DataError naming the file when missing
  if (t.shape() != shape) {
    throw DataError(file.path.string() + ": " + name + " has shape " + shape_string(t.shape()) +
                    ", expected " + shape_string(shape));
  }
  return t.to_vector<float>();
}

// The architecture of a SAELens cfg.json: "architecture" (6.x) or the pre-6.0
// activation_fn_str ("topk" under a "standard" architecture).
SaeArchitecture saelens_architecture(const nlohmann::json& cfg, const std::string& where) {
  std::string arch = cfg.value("architecture", std::string("standard"));
  if (arch == "standard" && cfg.value("activation_fn_str", std::string("relu")) == "topk")
    arch = "topk";
  if (arch == "standard") return SaeArchitecture::Standard;
  if (arch == "topk") return SaeArchitecture::TopK;
  if (arch == "jumprelu") return SaeArchitecture::JumpReLU;
  if (arch == "gated") return SaeArchitecture::Gated;
  throw DataError(where + ": unsupported architecture '" + arch +
                  "' (supported: standard, topk, jumprelu, gated)");
}

std::string saelens_hook(const nlohmann::json& cfg) {
  if (cfg.contains("metadata") && cfg["metadata"].is_object()) {
    const auto& m = cfg["metadata"];
    if (m.contains("hook_name") && m["hook_name"].is_string())
      return m["hook_name"].get<std::string>();
  }
  for (const char* key : {"hook_name", "hook_point"}) {
    if (cfg.contains(key) && cfg[key].is_string()) return cfg[key].get<std::string>();
  }
  return "";
}

// A warning for each weight holding NaN or infinity (`prefix` + name as the file stores it).
void warn_non_finite_weights(const Sae& sae, const std::string& prefix, const std::string& file) {
  const std::pair<const char*, const std::vector<float>*> weights[] = {
      {"W_enc", &sae.W_enc}, {"b_enc", &sae.b_enc},        {"W_dec", &sae.W_dec},
      {"b_dec", &sae.b_dec}, {"b_gate", &sae.b_gate},      {"b_mag", &sae.b_mag},
      {"r_mag", &sae.r_mag}, {"threshold", &sae.threshold}};
  for (const auto& [name, values] : weights) warn_non_finite(*values, prefix + name, file);
}

}  // namespace

Sae load_sae(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) return load_saelens(path);
  return load_sae_training(path);
}

Sae load_sae_training(const std::filesystem::path& file) {
  const PthFile pth = load_pth(file);
  const std::string where = file.string();
  const PyValue* cfg = pth.root.find("cfg");
  if (!cfg || !pth.root.find("state_dict")) {
    throw DataError(where +
                    ": not a sae_training file (expected a dict with 'cfg' and 'state_dict')");
  }
  Sae sae;
  sae.format = "sae_training";
  sae.architecture = SaeArchitecture::Standard;
  sae.apply_b_dec_to_input = true;
  const HostTensor& w_enc = pth.tensor("state_dict.W_enc");
  if (w_enc.dim() != 2) throw DataError(where + ": state_dict.W_enc is not 2-D");
  sae.d_in = w_enc.shape()[0];
  sae.d_sae = w_enc.shape()[1];
  if (const PyValue* d_in = cfg->find("d_in"); d_in && d_in->as_int() != sae.d_in) {
    throw DataError(where + ": cfg.d_in = " + std::to_string(d_in->as_int()) + " but W_enc has " +
                    std::to_string(sae.d_in) + " rows");
  }
  if (const PyValue* hook = cfg->find("hook_point");
      hook && hook->kind() == PyValue::Kind::String) {
    sae.hook_name = hook->as_string();
  }
  sae.W_enc = w_enc.to_vector<float>();
  sae.b_enc = tensor_values(pth, "state_dict.b_enc", {sae.d_sae});
  sae.W_dec = tensor_values(pth, "state_dict.W_dec", {sae.d_sae, sae.d_in});
  sae.b_dec = tensor_values(pth, "state_dict.b_dec", {sae.d_in});
  sae.check(where);
  warn_non_finite_weights(sae, "state_dict.", where);
  return sae;
}

namespace {

// The fields of a parsed cfg.json. Every type mismatch is a DataError naming the file and the field
// (nlohmann's own message names neither).
Sae saelens_header(const nlohmann::json& cfg, const std::string& where, const std::string& file) {
  if (!cfg.is_object()) throw DataError(file + ": expected a JSON object");
  auto integer = [&](const nlohmann::json& holder, const char* key, const std::string& shown) {
    if (!holder.contains(key)) throw DataError(file + ": missing '" + shown + "'");
    const auto& value = holder[key];
    if (!value.is_number_integer()) {
      throw DataError(file + ": '" + shown + "' must be an integer, got " + value.dump());
    }
    return value.get<std::int64_t>();
  };
  auto check_type = [&](const char* key, bool ok, const char* expected) {
    if (!ok) {
      throw DataError(file + ": '" + key + "' must be " + expected + ", got " + cfg[key].dump());
    }
  };
  for (const char* key : {"architecture", "activation_fn_str", "normalize_activations"}) {
    if (cfg.contains(key)) check_type(key, cfg[key].is_string(), "a string");
  }
  if (cfg.contains("apply_b_dec_to_input")) {
    check_type("apply_b_dec_to_input", cfg["apply_b_dec_to_input"].is_boolean(), "true or false");
  }
  Sae sae;
  sae.d_in = integer(cfg, "d_in", "d_in");
  sae.d_sae = integer(cfg, "d_sae", "d_sae");
  if (cfg.contains("activation_fn_kwargs")) {
    const auto& kwargs = cfg["activation_fn_kwargs"];
    check_type("activation_fn_kwargs", kwargs.is_object() || kwargs.is_null(), "an object");
    if (kwargs.is_object() && kwargs.contains("k")) {
      sae.k = integer(kwargs, "k", "activation_fn_kwargs.k");
    }
  }
  if (cfg.contains("k") && !cfg["k"].is_null()) sae.k = integer(cfg, "k", "k");
  sae.architecture = saelens_architecture(cfg, where);
  sae.apply_b_dec_to_input = cfg.value("apply_b_dec_to_input", true);
  sae.hook_name = saelens_hook(cfg);
  return sae;
}

}  // namespace

Sae load_saelens(const std::filesystem::path& folder) {
  const std::string where = folder.string();
  const std::string file = (folder / "cfg.json").string();
  std::ifstream cfg_in(folder / "cfg.json");
  if (!cfg_in)
    throw DataError(where +
                    ": no cfg.json (an SAELens folder holds cfg.json and sae_weights.safetensors)");
  nlohmann::json cfg;
  try {
    cfg = nlohmann::json::parse(cfg_in);
  } catch (const std::exception& e) {
    throw DataError(file + ": " + e.what());
  }
  Sae sae = saelens_header(cfg, where, file);
  const std::string norm =
      cfg.contains("normalize_activations") && cfg["normalize_activations"].is_string()
          ? cfg["normalize_activations"].get<std::string>()
          : "none";
  if (norm != "none") {
    throw DataError(
        where + ": normalize_activations '" + norm +
        "' is not supported (only 'none'; expected_average_only_in, constant_norm_rescale "
        "and layer_norm need statistics othrun does not reproduce yet)");
  }
  sae.format = "saelens";
  const SafetensorsFile tensors = load_safetensors(folder / "sae_weights.safetensors");
  sae.W_enc = tensor_values(tensors, "W_enc", {sae.d_in, sae.d_sae});
  sae.W_dec = tensor_values(tensors, "W_dec", {sae.d_sae, sae.d_in});
  sae.b_dec = tensor_values(tensors, "b_dec", {sae.d_in});
  if (sae.architecture == SaeArchitecture::Gated) {
    sae.b_gate = tensor_values(tensors, "b_gate", {sae.d_sae});
    sae.b_mag = tensor_values(tensors, "b_mag", {sae.d_sae});
    sae.r_mag = tensor_values(tensors, "r_mag", {sae.d_sae});
  } else {
    sae.b_enc = tensor_values(tensors, "b_enc", {sae.d_sae});
  }
  if (sae.architecture == SaeArchitecture::JumpReLU) {
    sae.threshold = tensor_values(tensors, "threshold", {sae.d_sae});
  }
  sae.check(where);
  warn_non_finite_weights(sae, "", tensors.path.string());
  return sae;
}

}  // namespace othrun::analysis
