// save_pth -> load_pth round trips inside C++ (tests/checkpoint/interop_test.cpp covers Python).
#include <othrun/error.hpp>
#include <othrun/pth.hpp>

#include <gtest/gtest.h>

#include "checkpoint/pth_writer.hpp"
#include "checkpoint/zip_reader.hpp"
#include "checkpoint_test_util.hpp"

namespace othrun {
namespace {

const std::vector<DType> kTorchDTypes{
    DType::Bool,  DType::UInt8,   DType::Int8,     DType::Int16,   DType::Int32,
    DType::Int64, DType::Float16, DType::BFloat16, DType::Float32, DType::Float64};

PyValue sample() {
  HostTensor base = HostTensor::arange(DType::Float32, {4, 6});
  PyValue::DictItems tensors;
  for (DType d : kTorchDTypes) tensors.emplace_back(to_string(d), HostTensor::arange(d, {2, 3}));
  tensors.emplace_back("transposed", HostTensor(DType::Float32, {6, 4}, {1, 6}, 0, base.storage()));
  tensors.emplace_back("slice", HostTensor(DType::Float32, {2, 3}, {6, 1}, 8, base.storage()));
  tensors.emplace_back("scalar", HostTensor::from_values<double>({}, {2.5}));
  tensors.emplace_back("empty", HostTensor(DType::Int64, {0, 3}));
  return PyValue::dict({
      {"state_dict", PyValue::ordered_dict(std::move(tensors))},
      {"config", PyValue::dict({{"d_in", 512},
                              {"name", "othello"},
                              {"lr", 3e-5},
                              {"flags", PyValue::list({true, false, nullptr})},
                              {"pair", PyValue::tuple({1, "a"})},
                              {"four", PyValue::tuple({1, 2, 3, 4})},
                              {"big", std::int64_t{1} << 40},
                              {"min", INT64_MIN},
                              {"negative", -70000},
                              {"unicode", "caf\xc3\xa9"}})},
      {"base", base},
  });
}

void check_sample(const PthFile& f) {
  const PyValue& sd = f.root["state_dict"];
  ASSERT_TRUE(sd.is_ordered_dict());
  for (DType d : kTorchDTypes) {
    const HostTensor& t = f.tensor(std::string("state_dict.") + to_string(d));
    EXPECT_EQ(t.dtype(), d);
    EXPECT_EQ(t.to_vector<double>(), HostTensor::arange(d, {2, 3}).to_vector<double>())
        << to_string(d);
  }
  const HostTensor& base = f.tensor("base");
  const HostTensor& transposed = f.tensor("state_dict.transposed");
  EXPECT_EQ(transposed.storage(), base.storage());
  EXPECT_EQ(transposed.strides(), (HostTensor::Shape{1, 6}));
  EXPECT_EQ(transposed.at({5, 3}), 23);
  EXPECT_EQ(f.tensor("state_dict.slice").offset(), 8);
  EXPECT_EQ(f.tensor("state_dict.slice").to_vector<float>(),
            (std::vector<float>{8, 9, 10, 14, 15, 16}));
  EXPECT_EQ(f.tensor("state_dict.scalar").shape(), HostTensor::Shape{});
  EXPECT_EQ(f.tensor("state_dict.scalar").at({}), 2.5);
  EXPECT_EQ(f.tensor("state_dict.empty").shape(), (HostTensor::Shape{0, 3}));
  const PyValue& c = f.root["config"];
  EXPECT_EQ(c["d_in"].as_int(), 512);
  EXPECT_EQ(c["name"].as_string(), "othello");
  EXPECT_EQ(c["lr"].as_float(), 3e-5);
  EXPECT_EQ(c["flags"].repr(), "[True, False, None]");
  EXPECT_EQ(c["pair"].repr(), "(1, 'a')");
  EXPECT_EQ(c["four"].repr(), "(1, 2, 3, 4)");
  EXPECT_EQ(c["big"].as_int(), std::int64_t{1} << 40);
  EXPECT_EQ(c["min"].as_int(), INT64_MIN);
  EXPECT_EQ(c["negative"].as_int(), -70000);
  EXPECT_EQ(c["unicode"].as_string(), "caf\xc3\xa9");
}

TEST(SavePth, RoundTrip) {
  test::TempDir dir;
  save_pth(dir / "a.pth", sample());
  PthFile f = load_pth(dir / "a.pth");
  check_sample(f);
  EXPECT_EQ(f.pickle_protocol, 2);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.pth.partial"));
}

TEST(SavePth, Zip64RoundTrip) {
  test::TempDir dir;
  checkpoint::write_pth(dir / "a.pth", sample(), true);
  check_sample(load_pth(dir / "a.pth"));
}

TEST(SavePth, OneRecordPerStorage) {
  test::TempDir dir;
  save_pth(dir / "a.pth", sample());
  checkpoint::ZipReader zip(dir / "a.pth");
  // data.pkl, byteorder, version, 10 dtype tensors, base (shared by 2 views), scalar, empty
  EXPECT_EQ(zip.entries().size(), 3u + 10u + 3u);
  EXPECT_NE(zip.find("archive/data.pkl"), nullptr);
}

TEST(SavePth, ManyItemsAreBatched) {
  test::TempDir dir;
  PyValue::Items items;
  PyValue::DictItems entries;
  for (int i = 0; i < 2500; ++i) {
    items.emplace_back(i);
    entries.emplace_back("k" + std::to_string(i), i);
  }
  save_pth(dir / "a.pth",
           PyValue::dict({{"list", PyValue::list(items)}, {"dict", PyValue::dict(entries)}}));
  PthFile f = load_pth(dir / "a.pth");
  EXPECT_EQ(f.root["list"].items().size(), 2500u);
  EXPECT_EQ(f.root["list"].items()[2499].as_int(), 2499);
  EXPECT_EQ(f.root["dict"]["k1234"].as_int(), 1234);
}

TEST(SavePth, MakeStateDict) {
  test::TempDir dir;
  std::vector<NamedTensor> tensors{{"W_enc", HostTensor::arange(DType::Float32, {2, 3})},
                                   {"b_enc", HostTensor::arange(DType::Float32, {3})}};
  save_pth(dir / "sae.pth", make_state_dict(tensors));
  PthFile f = load_pth(dir / "sae.pth");
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].name, "W_enc");
  EXPECT_TRUE(f.root.is_ordered_dict());
}

TEST(SavePth, RefusesWhatTorchCannotLoadAndLeavesNoFile) {
  test::TempDir dir;
  const auto path = dir / "bad.pth";
  EXPECT_THROW(save_pth(path, PyValue::dict({{"x", HostTensor(DType::UInt64, {2})}})), Error);
  EXPECT_THROW(save_pth(path, PyValue::set({1})), Error);
  EXPECT_THROW(save_pth(path, PyValue::device("cuda")), Error);
  EXPECT_THROW(save_pth(path, PyValue::object("m", "C", {}, {})), Error);
  auto storage = Storage::allocate(16);
  EXPECT_THROW(save_pth(path, PyValue::list({HostTensor(DType::Float32, {4}, {1}, 0, storage),
                                           HostTensor(DType::Int32, {4}, {1}, 0, storage)})),
               Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  try {
    save_pth(path, PyValue::set({1}));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.pth: cannot save a set"), std::string::npos);
  }
}

TEST(SavePth, CreatesTheFolder) {
  test::TempDir dir;
  save_pth(dir / "new" / "sub" / "a.pth", sample());
  check_sample(load_pth(dir / "new" / "sub" / "a.pth"));
}

TEST(SavePth, UnwritableDestination) {
  // The parent "folder" is a regular file: it can be neither created nor written into.
  test::TempDir dir;
  save_pth(dir / "file", PyValue(1));
  try {
    save_pth(dir / "file" / "x.pth", PyValue(1));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "file").string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace othrun
