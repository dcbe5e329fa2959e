// C++ -> Python -> C++: files othrun writes are read by torch.load (weights_only=True too), checked
// and saved again by Python, then read back by othrun. Skipped when OTHRUN_PYTHON3 lacks torch
// (scripts/setup.sh installs python3-torch, so CI has it).
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>

#include <gtest/gtest.h>

#include "checkpoint/pth_writer.hpp"
#include "checkpoint_test_util.hpp"

namespace othrun {
namespace {

#define REQUIRE_TORCH()                                                               \
  if (!test::python_has_torch()) {                                                    \
    GTEST_SKIP() << OTHRUN_PYTHON3 << " cannot import torch (install python3-torch)"; \
  }

const std::vector<DType> kTorchDTypes{
    DType::Bool,  DType::UInt8,   DType::Int8,     DType::Int16,   DType::Int32,
    DType::Int64, DType::Float16, DType::BFloat16, DType::Float32, DType::Float64};

// A state dict with every dtype, a transposed view and a slice of one storage, and metadata
// without floats (torch 1.13's weights_only loader has no BINFLOAT).
PyValue state_dict_value() {
  HostTensor base = HostTensor::arange(DType::Float32, {4, 6});
  PyValue::DictItems tensors;
  for (DType d : kTorchDTypes) tensors.emplace_back(to_string(d), HostTensor::arange(d, {2, 3}));
  tensors.emplace_back("base", base);
  tensors.emplace_back("transposed", HostTensor(DType::Float32, {6, 4}, {1, 6}, 0, base.storage()));
  tensors.emplace_back("slice", HostTensor(DType::Float32, {2, 3}, {6, 1}, 8, base.storage()));
  return PyValue::dict({{"state_dict", PyValue::ordered_dict(std::move(tensors))},
                      {"step", 1000},
                      {"name", "othello-gpt"},
                      {"shape", PyValue::tuple({8, 512})},
                      {"flags", PyValue::list({true, false, nullptr})}});
}

// Checks what C++ wrote, then saves it again with torch.save.
const char* kCheckPth = R"PY(
import collections, sys, torch
src, dst, weights_only, floats = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1"
obj = torch.load(src, weights_only=weights_only)
sd = obj["state_dict"]
assert type(sd) is collections.OrderedDict, type(sd)
names = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64"]
for name in names:
    t = sd[name]
    assert t.dtype == getattr(torch, name), (name, t.dtype)
    want = torch.arange(6) % 2 == 1 if name == "bool" else torch.arange(6).to(t.dtype)
    assert torch.equal(t, want.reshape(2, 3)), (name, t)
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
assert torch.equal(sd["base"], base)
assert torch.equal(sd["transposed"], base.t()) and sd["transposed"].stride() == (1, 6)
assert torch.equal(sd["slice"], base[1:3, 2:5]) and sd["slice"].storage_offset() == 8
assert sd["slice"].storage().data_ptr() == sd["base"].storage().data_ptr()
assert obj["step"] == 1000 and obj["name"] == "othello-gpt"
assert obj["shape"] == (8, 512) and obj["flags"] == [True, False, None]
if floats:
    assert obj["lr"] == 3e-5, obj["lr"]
obj["from_python"] = torch.ones(2, dtype=torch.float16)
torch.save(obj, dst)
print("python: ok", src)
)PY";

void check_resaved(const std::filesystem::path& path) {
  PthFile f = load_pth(path);
  for (DType d : kTorchDTypes) {
    const HostTensor& t = f.tensor(std::string("state_dict.") + to_string(d));
    EXPECT_EQ(t.dtype(), d);
    EXPECT_EQ(t.to_vector<double>(), HostTensor::arange(d, {2, 3}).to_vector<double>());
  }
  EXPECT_EQ(f.tensor("state_dict.transposed").storage(), f.tensor("state_dict.base").storage());
  EXPECT_EQ(f.tensor("state_dict.slice").to_vector<float>(),
            (std::vector<float>{8, 9, 10, 14, 15, 16}));
  EXPECT_EQ(f.tensor("from_python").to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(f.root["step"].as_int(), 1000);
  EXPECT_EQ(f.root["shape"].repr(), "(8, 512)");
}

TEST(Interop, TorchLoadsWeightsOnly) {
  REQUIRE_TORCH();
  test::TempDir dir;
  save_pth(dir / "cpp.pth", state_dict_value());
  ASSERT_EQ(test::run_python(dir.path(), kCheckPth,
                             {(dir / "cpp.pth").string(), (dir / "py.pth").string(), "1", "0"}),
            0);
  check_resaved(dir / "py.pth");
}

TEST(Interop, TorchLoadsFloatsAndZip64) {
  REQUIRE_TORCH();
  test::TempDir dir;
  PyValue::DictItems items = state_dict_value().dict_items();
  items.emplace_back("lr", 3e-5);
  checkpoint::write_pth(dir / "cpp.pth", PyValue::dict(std::move(items)), true);
  ASSERT_EQ(test::run_python(dir.path(), kCheckPth,
                             {(dir / "cpp.pth").string(), (dir / "py.pth").string(), "0", "1"}),
            0);
  check_resaved(dir / "py.pth");
  EXPECT_EQ(load_pth(dir / "py.pth").root["lr"].as_float(), 3e-5);
}

// Parses the C++ file with the format's definition, checks it against torch, writes it again.
const char* kCheckSafetensors = R"PY(
import json, struct, sys, torch
src, dst = sys.argv[1], sys.argv[2]
codes = {"BOOL": torch.bool, "U8": torch.uint8, "I8": torch.int8, "I16": torch.int16,
         "I32": torch.int32, "I64": torch.int64, "F16": torch.float16, "BF16": torch.bfloat16,
         "F32": torch.float32, "F64": torch.float64}
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
assert n % 8 == 0
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
assert header.pop("__metadata__") == {"format": "pt", "source": "othrun"}
for name, e in header.items():
    b, end = e["data_offsets"]
    t = torch.frombuffer(bytearray(data[b:end]), dtype=codes[e["dtype"]]).reshape(e["shape"])
    want = torch.arange(t.numel()) % 2 == 1 if t.dtype == torch.bool else torch.arange(t.numel())
    assert torch.equal(t, want.to(t.dtype).reshape(t.shape)), name
blob = json.dumps({"__metadata__": {"from": "python"}, **header}).encode()
blob += b" " * (-len(blob) % 8)
open(dst, "wb").write(struct.pack("<Q", len(blob)) + blob + data)
print("python: ok", src)
)PY";

TEST(Interop, SafetensorsRoundTrip) {
  REQUIRE_TORCH();
  test::TempDir dir;
  std::vector<NamedTensor> tensors;
  for (DType d : kTorchDTypes) tensors.push_back({to_string(d), HostTensor::arange(d, {3, 2})});
  save_safetensors(dir / "cpp.safetensors", tensors, {{"format", "pt"}, {"source", "othrun"}});
  ASSERT_EQ(
      test::run_python(dir.path(), kCheckSafetensors,
                       {(dir / "cpp.safetensors").string(), (dir / "py.safetensors").string()}),
      0);
  SafetensorsFile f = load_safetensors(dir / "py.safetensors");
  EXPECT_EQ(f.metadata.at("from"), "python");
  for (const auto& [name, t] : tensors) {
    EXPECT_EQ(f.tensor(name).to_vector<double>(), t.to_vector<double>()) << name;
  }
}

}  // namespace
}  // namespace othrun
