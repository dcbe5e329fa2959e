#include <othrun/inspect.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <othrun/error.hpp>
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>

#include "checkpoint/file_io.hpp"
#include "checkpoint/json_file.hpp"
#include "checkpoint/walk.hpp"

namespace othrun {

namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxWidth = 48;
constexpr std::size_t kValueChars = 100;

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", v, units[unit]);
  return text;
}

// Two aligned columns; the first is cut to kMaxWidth for alignment, never the names themselves.
void print_rows(std::ostream& out, const char* title, const Rows& rows) {
  if (rows.empty()) return;
  std::size_t width = 0;
  for (const auto& [name, _] : rows) width = std::max(width, std::min(name.size(), kMaxWidth));
  out << title << ":\n";
  for (const auto& [name, text] : rows) {
    out << "  " << name;
    out << std::string(name.size() < width ? width - name.size() : 0, ' ') << "  " << text << "\n";
  }
}

Rows tensor_rows(const std::vector<NamedTensor>& tensors) {
  Rows rows;
  for (const auto& [name, t] : tensors) {
    std::string text = std::string(to_string(t.dtype())) + "  " + shape_string(t.shape());
    if (!t.is_contiguous()) text += "  (strided view)";
    rows.emplace_back(name.empty() ? "<root>" : name, std::move(text));
  }
  return rows;
}

std::string count(std::size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

std::uint64_t total_bytes(const std::vector<NamedTensor>& tensors) {
  std::uint64_t n = 0;
  for (const auto& t : tensors) n += t.tensor.nbytes();
  return n;
}

bool is_leaf_container(const PyValue& v) {
  auto plain = [](const PyValue& x) {
    using K = PyValue::Kind;
    switch (x.kind()) {
      case K::List:
      case K::Tuple:
      case K::Set:
      case K::Dict:
      case K::Object:
      case K::Tensor:
        return false;
      default:
        return true;
    }
  };
  switch (v.kind()) {
    case PyValue::Kind::List:
    case PyValue::Kind::Tuple:
    case PyValue::Kind::Set:
      return std::all_of(v.items().begin(), v.items().end(), plain);
    case PyValue::Kind::Dict:
      return std::all_of(v.dict_items().begin(), v.dict_items().end(),
                         [&](const auto& kv) { return plain(kv.second); });
    default:
      return true;
  }
}

// Non-tensor values with their paths: scalars and flat containers on one line, objects as their
// class followed by their attributes.
Rows value_rows(const PyValue& root) {
  Rows rows;
  checkpoint::walk_values(root, [&](const std::string& path, const PyValue& v) {
    const std::string name = path.empty() ? "<root>" : path;
    if (v.kind() == PyValue::Kind::Tensor) return false;
    if (v.kind() == PyValue::Kind::Object) {
      rows.emplace_back(name, v.class_name());
      return true;
    }
    if (!is_leaf_container(v)) return true;
    rows.emplace_back(name, v.repr(kValueChars));
    return false;
  });
  return rows;
}

// cfg.json: objects expand into dotted paths, arrays of plain values stay on one line.
void json_rows(const nlohmann::json& j, const std::string& path, Rows& rows) {
  auto child = [&](const std::string& key) { return path.empty() ? key : path + "." + key; };
  if (j.is_object() && !j.empty()) {
    for (const auto& [key, value] : j.items()) json_rows(value, child(key), rows);
    return;
  }
  if (j.is_array() &&
      std::any_of(j.begin(), j.end(), [](const auto& x) { return x.is_structured(); })) {
    for (std::size_t i = 0; i < j.size(); ++i) json_rows(j[i], child(std::to_string(i)), rows);
    return;
  }
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kValueChars) text = text.substr(0, kValueChars) + "...";
  rows.emplace_back(path.empty() ? "<root>" : path, std::move(text));
}

void inspect_pth(const std::filesystem::path& path, std::ostream& out) {
  PthFile f = load_pth(path);
  out << path.string() << ": torch.save archive, pickle protocol " << f.pickle_protocol << ", "
      << count(f.tensors.size(), "tensor") << " (" << human_bytes(total_bytes(f.tensors)) << ")\n";
  print_rows(out, "tensors", tensor_rows(f.tensors));
  print_rows(out, "values", value_rows(f.root));
}

void inspect_safetensors(const std::filesystem::path& path, std::ostream& out) {
  SafetensorsFile f = load_safetensors(path);
  out << path.string() << ": safetensors, " << count(f.tensors.size(), "tensor") << " ("
      << human_bytes(total_bytes(f.tensors)) << ")\n";
  print_rows(out, "tensors", tensor_rows(f.tensors));
  Rows metadata;
  for (const auto& [key, value] : f.metadata)
    metadata.emplace_back(key, PyValue(value).repr(kValueChars));
  print_rows(out, "metadata", metadata);
}

void inspect_json(const std::filesystem::path& path, std::ostream& out) {
  checkpoint::InputFile file(path);
  const auto text = file.read(0, static_cast<std::size_t>(file.size()), "JSON text");
  Rows rows;
  json_rows(checkpoint::parse_json(text, path.string()), "", rows);
  out << path.string() << ": JSON\n";
  print_rows(out, "values", rows);
}

enum class Format { Pth, Safetensors, Json, Unknown };

Format sniff(const std::filesystem::path& path) {
  checkpoint::InputFile file(path);
  std::byte head[9] = {};
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), 9));
  file.read(0, std::span<std::byte>(head, n), "file header");
  if (n >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return Format::Pth;
  if (n >= 1 && head[0] == std::byte{0x80}) return Format::Pth;  // legacy: load_pth explains
  if (path.extension() == ".json") return Format::Json;
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, head, n == 9 ? 8 : 0);
  if (n == 9 && head[8] == std::byte{'{'} && header_size <= file.size() - 8) {
    return Format::Safetensors;
  }
  if (path.extension() == ".safetensors") return Format::Safetensors;  // its error says more
  return Format::Unknown;
}

void inspect_regular_file(const std::filesystem::path& path, std::ostream& out) {
  switch (sniff(path)) {
    case Format::Pth:
      inspect_pth(path, out);
      return;
    case Format::Safetensors:
      inspect_safetensors(path, out);
      return;
    case Format::Json:
      inspect_json(path, out);
      return;
    case Format::Unknown:
      break;
  }
  throw DataError(path.string() +
                  ": not a torch.save archive, safetensors file or JSON file (unknown header)");
}

// A SAELens folder: cfg.json, sae_weights.safetensors and maybe sparsity.safetensors.
void inspect_folder(const std::filesystem::path& path, std::ostream& out) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    const auto ext = entry.path().extension();
    if (entry.is_regular_file() &&
        (ext == ".safetensors" || entry.path().filename() == "cfg.json")) {
      files.push_back(entry.path());
    }
  }
  if (files.empty()) {
    throw DataError(path.string() + ": folder without cfg.json or *.safetensors (not SAELens)");
  }
  std::sort(files.begin(), files.end());
  std::stable_partition(files.begin(), files.end(),
                        [](const auto& p) { return p.filename() == "cfg.json"; });
  out << path.string() << ": SAELens folder\n";
  for (const auto& file : files) inspect_regular_file(file, out);
}

}  // namespace

void inspect_file(const std::filesystem::path& path, std::ostream& out) {
  try {
    if (std::filesystem::is_directory(path)) {
      inspect_folder(path, out);
    } else {
      inspect_regular_file(path, out);
    }
  } catch (const std::filesystem::filesystem_error& e) {
    throw DataError(path.string() + ": " + e.code().message());
  }
}

}  // namespace othrun
