// load_pth: a torch.save zip archive -> PthFile. The archive's records are <dir>/data.pkl (the
// pickled object), <dir>/data/<key> (one per storage, raw little-endian elements) and
// <dir>/version; <dir> is whatever name the writer chose ("archive", the file's stem, ...).
#include <cstring>
#include <unordered_map>

#include <othrun/error.hpp>
#include <othrun/pth.hpp>

#include "checkpoint/element.hpp"
#include "checkpoint/file_io.hpp"
#include "checkpoint/pickle_reader.hpp"
#include "checkpoint/zip_reader.hpp"

namespace othrun {

namespace {

using checkpoint::ZipEntry;
using checkpoint::ZipReader;

// Rejects what is recognisably not a torch.save zip archive with a message saying what it is.
void check_magic(const std::filesystem::path& path) {
  checkpoint::InputFile file(path);
  std::byte head[8] = {};
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(file.size(), 8));
  file.read(0, std::span<std::byte>(head, n), "file header");
  if (n >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return;
  if (n >= 1 && head[0] == std::byte{0x80}) {
    throw DataError(path.string() +
                    ": legacy torch.save format (torch < 1.6) is not supported: load it in Python "
                    "and save it again with torch.save");
  }
  throw DataError(path.string() + ": not a torch.save archive (no zip header)");
}

// The entry <dir>/data.pkl; rejects TorchScript archives, whose data.pkl needs their code.
const ZipEntry& find_data_pkl(const ZipReader& zip) {
  const ZipEntry* found = nullptr;
  for (const ZipEntry& e : zip.entries()) {
    const auto slash = e.name.find('/');
    if (slash == std::string::npos ||
        e.name.compare(slash + 1, std::string::npos, "data.pkl") != 0) {
      continue;
    }
    if (found) throw DataError(zip.path().string() + ": several data.pkl entries");
    found = &e;
  }
  if (!found) {
    throw DataError(zip.path().string() +
                    ": zip archive without a <dir>/data.pkl entry: not written by torch.save");
  }
  const std::string dir = found->name.substr(0, found->name.size() - 8);
  if (zip.find(dir + "constants.pkl")) {
    throw DataError(zip.path().string() +
                    ": a TorchScript archive (torch.jit.save); othrun reads torch.save files");
  }
  if (const ZipEntry* order = zip.find(dir + "byteorder"); order && order->size < 16) {
    const std::vector<std::byte> bytes = zip.read(*order);
    if (std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()) == "big") {
      throw DataError(zip.path().string() + ": big-endian archives are not supported");
    }
  }
  return *found;
}

// Loads each data/<key> record once, after checking its size against the persistent id.
class StorageCache {
 public:
  StorageCache(const ZipReader& zip, std::string dir) : zip_(zip), dir_(std::move(dir)) {}

  std::shared_ptr<Storage> load(const checkpoint::StorageRequest& r) {
    const std::string name = dir_ + "data/" + r.key;
    auto it = cache_.find(r.key);
    if (it != cache_.end()) {
      if (it->second.dtype != r.dtype || it->second.numel != r.numel) {
        fail(name, "one storage used as two different types or sizes");
      }
      return it->second.storage;
    }
    const ZipEntry* e = zip_.find(name);
    if (!e) fail(name, "missing zip entry");
    const std::uint64_t itemsize = dtype_size(r.dtype);
    if (e->size % itemsize != 0 || e->size / itemsize != static_cast<std::uint64_t>(r.numel)) {
      fail(name, "holds " + std::to_string(e->size) + " bytes, but the pickle says " +
                     std::to_string(r.numel) + " " + to_string(r.dtype) + " elements");
    }
    auto storage = Storage::allocate(static_cast<std::size_t>(e->size));
    zip_.read(*e, std::span<std::byte>(storage->data(), storage->nbytes()));
    if (r.dtype == DType::Bool) checkpoint::normalize_bools(storage->data(), storage->nbytes());
    cache_.emplace(r.key, Entry{r.dtype, r.numel, storage});
    return storage;
  }

 private:
  struct Entry {
    DType dtype;
    std::int64_t numel;
    std::shared_ptr<Storage> storage;
  };
  [[noreturn]] void fail(const std::string& name, const std::string& what) const {
    throw DataError(zip_.path().string() + ": zip entry '" + name + "': " + what);
  }

  const ZipReader& zip_;
  std::string dir_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace

PthFile load_pth(const std::filesystem::path& path) {
  check_magic(path);
  ZipReader zip(path);
  const ZipEntry& pkl = find_data_pkl(zip);
  const std::vector<std::byte> pickle = zip.read(pkl);
  StorageCache storages(zip, pkl.name.substr(0, pkl.name.size() - 8));
  const std::string where = path.string() + ": " + pkl.name;
  checkpoint::Unpickled u = checkpoint::unpickle(
      pickle, where, [&](const checkpoint::StorageRequest& r) { return storages.load(r); });
  PthFile out;
  out.path = path;
  out.pickle_protocol = u.protocol;
  out.root = std::move(u.root);
  try {
    out.tensors = flatten_tensors(out.root);
  } catch (const DataError& e) {
    throw DataError(where + ": " + e.what());
  }
  return out;
}

const HostTensor& PthFile::tensor(std::string_view name) const {
  return require_tensor(tensors, name, path.string());
}

}  // namespace othrun
