// save_pth: a PyValue -> a torch.save zip archive that torch.load reads, with weights_only=True too.
// Tensors are pickled exactly as torch 1.13 does it: _rebuild_tensor_v2(persistent storage id,
// offset, size, stride, False, OrderedDict()), one data/<key> record per distinct storage, so
// tensors that share a Storage share it again after torch.load.
#include "checkpoint/pth_writer.hpp"

#include <array>
#include <unordered_map>

#include <othrun/error.hpp>

#include "checkpoint/pickle_writer.hpp"
#include "checkpoint/zip_writer.hpp"

namespace othrun {

namespace {

constexpr int kMaxDepth = 200;
constexpr std::size_t kBatch = 1000;  // items per APPENDS/SETITEMS, as Python's pickler batches

const char* storage_class(DType dtype) {
  switch (dtype) {
    case DType::Bool:
      return "BoolStorage";
    case DType::UInt8:
      return "ByteStorage";
    case DType::Int8:
      return "CharStorage";
    case DType::Int16:
      return "ShortStorage";
    case DType::Int32:
      return "IntStorage";
    case DType::Int64:
      return "LongStorage";
    case DType::Float16:
      return "HalfStorage";
    case DType::BFloat16:
      return "BFloat16Storage";
    case DType::Float32:
      return "FloatStorage";
    case DType::Float64:
      return "DoubleStorage";
    case DType::UInt64:
      break;
  }
  return nullptr;
}

class PthWriter {
 public:
  explicit PthWriter(std::string path) : path_(std::move(path)) {}

  void write(const PyValue& root, checkpoint::ZipWriter& zip) {
    value(root, 0);
    pickle_.stop();
    zip.add("archive/data.pkl", pickle_.bytes());
    zip.add("archive/byteorder", std::as_bytes(std::span<const char>("little", 6)));
    for (std::size_t key = 0; key < records_.size(); ++key) {
      const Record& r = records_[key];
      zip.add("archive/data/" + std::to_string(key),
              std::span<const std::byte>(r.storage ? r.storage->data() : nullptr, r.nbytes));
    }
    zip.add("archive/version", std::as_bytes(std::span<const char>("3\n", 2)));
  }

 private:
  struct Record {
    std::shared_ptr<Storage> storage;
    DType dtype;
    std::size_t nbytes;
  };

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": cannot save " + what);
  }

  void value(const PyValue& v, int depth) {
    if (depth > kMaxDepth) fail("values nested deeper than " + std::to_string(kMaxDepth));
    using K = PyValue::Kind;
    switch (v.kind()) {
      case K::None:
        pickle_.none();
        return;
      case K::Bool:
        pickle_.boolean(v.as_bool());
        return;
      case K::Int:
        pickle_.integer(v.as_int());
        return;
      case K::Float:
        pickle_.real(v.as_float());
        return;
      case K::String:
        pickle_.string(v.as_string());
        return;
      case K::List:
        list(v.items(), depth);
        return;
      case K::Tuple:
        tuple(v.items(), depth);
        return;
      case K::Dict:
        dict(v, depth);
        return;
      case K::Tensor:
        tensor(v.as_tensor());
        return;
      default:
        fail(std::string("a ") + to_string(v.kind()) +
             " (save_pth writes tensors, dicts, "
             "lists, tuples, str, int, float, bool and None)");
    }
  }

  void list(const PyValue::Items& items, int depth) {
    pickle_.op(']');
    for (std::size_t i = 0; i < items.size(); i += kBatch) {
      pickle_.mark();
      for (std::size_t j = i; j < std::min(items.size(), i + kBatch); ++j)
        value(items[j], depth + 1);
      pickle_.op('e');  // APPENDS
    }
  }

  void tuple(const PyValue::Items& items, int depth) {
    if (items.size() > 3) pickle_.mark();
    for (const PyValue& item : items) value(item, depth + 1);
    pickle_.tuple(items.size());
  }

  void dict(const PyValue& v, int depth) {
    if (v.is_ordered_dict()) {
      pickle_.global("collections", "OrderedDict");
      pickle_.op(')');
      pickle_.op('R');
    } else {
      pickle_.op('}');
    }
    const PyValue::DictItems& items = v.dict_items();
    for (std::size_t i = 0; i < items.size(); i += kBatch) {
      pickle_.mark();
      for (std::size_t j = i; j < std::min(items.size(), i + kBatch); ++j) {
        value(items[j].first, depth + 1);
        value(items[j].second, depth + 1);
      }
      pickle_.op('u');  // SETITEMS
    }
  }

  void tensor(const HostTensor& t) {
    const char* storage_type = storage_class(t.dtype());
    if (!storage_type)
      fail(std::string("a ") + to_string(t.dtype()) + " tensor: torch has no such storage");
    const std::size_t itemsize = dtype_size(t.dtype());
    const std::size_t key = storage_key(t);
    pickle_.global("torch._utils", "_rebuild_tensor_v2");
    pickle_.mark();
    pickle_.mark();  // the persistent id
    pickle_.string("storage");
    pickle_.global("torch", storage_type);
    pickle_.string(std::to_string(key));
    pickle_.string("cpu");
    pickle_.integer(static_cast<std::int64_t>(records_[key].nbytes / itemsize));
    pickle_.op('t');
    pickle_.op('Q');  // BINPERSID
    pickle_.integer(t.storage() ? t.offset() : 0);
    int_tuple(t.shape());
    int_tuple(t.storage() ? t.strides() : HostTensor::contiguous_strides(t.shape()));
    pickle_.boolean(false);                        // requires_grad
    pickle_.global("collections", "OrderedDict");  // backward hooks
    pickle_.op(')');
    pickle_.op('R');
    pickle_.op('t');
    pickle_.op('R');
  }

  void int_tuple(const HostTensor::Shape& values) {
    if (values.size() > 3) pickle_.mark();
    for (std::int64_t v : values) pickle_.integer(v);
    pickle_.tuple(values.size());
  }

  // One record per distinct storage; a storage viewed as two dtypes cannot be written (torch.save
  // refuses the same).
  std::size_t storage_key(const HostTensor& t) {
    const Storage* s = t.storage().get();
    if (s) {
      auto it = keys_.find(s);
      if (it != keys_.end()) {
        if (records_[it->second].dtype != t.dtype()) {
          fail("tensors that view one storage as different dtypes");
        }
        return it->second;
      }
    }
    const std::size_t itemsize = dtype_size(t.dtype());
    const std::size_t nbytes = s ? s->nbytes() / itemsize * itemsize : 0;
    records_.push_back({t.storage(), t.dtype(), nbytes});
    if (s) keys_.emplace(s, records_.size() - 1);
    return records_.size() - 1;
  }

  std::string path_;
  checkpoint::PickleWriter pickle_;
  std::vector<Record> records_;
  std::unordered_map<const Storage*, std::size_t> keys_;
};

}  // namespace

namespace checkpoint {

void write_pth(const std::filesystem::path& path, const PyValue& root, bool force_zip64) {
  checkpoint::ZipWriter zip(path, force_zip64);
  PthWriter(path.string()).write(root, zip);
  zip.commit();
}

}  // namespace checkpoint

void save_pth(const std::filesystem::path& path, const PyValue& root) {
  checkpoint::write_pth(path, root, false);
}

}  // namespace othrun
