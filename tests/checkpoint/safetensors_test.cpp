#include <othrun/error.hpp>
#include <othrun/safetensors.hpp>

#include <cstring>

#include <gtest/gtest.h>

#include "checkpoint_test_util.hpp"

namespace othrun {
namespace {

using test::fixture;

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

TEST(Safetensors, ReadsEveryDType) {
  SafetensorsFile f = load_safetensors(fixture("dtypes.safetensors"));
  const std::vector<std::pair<const char*, DType>> expected{
      {"float32", DType::Float32}, {"float16", DType::Float16}, {"bfloat16", DType::BFloat16},
      {"float64", DType::Float64}, {"int64", DType::Int64},     {"int32", DType::Int32},
      {"int16", DType::Int16},     {"int8", DType::Int8},       {"uint8", DType::UInt8},
      {"bool", DType::Bool}};
  for (const auto& [name, dtype] : expected) {
    const HostTensor& t = f.tensor(name);
    EXPECT_EQ(t.dtype(), dtype) << name;
    EXPECT_EQ(t.shape(), (HostTensor::Shape{2, 3})) << name;
    std::vector<double> values = t.to_vector<double>();
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(values[static_cast<std::size_t>(i)], dtype == DType::Bool ? i % 2 : i) << name;
    }
  }
  EXPECT_EQ(f.tensor("scalar").shape(), HostTensor::Shape{});
  EXPECT_EQ(f.tensor("scalar").at({}), 7.5);
  EXPECT_EQ(f.tensor("empty").shape(), (HostTensor::Shape{0, 4}));
  EXPECT_EQ(f.tensors.front().name, "float32");  // file order
  EXPECT_EQ(f.metadata.at("format"), "pt");
  EXPECT_EQ(f.metadata.at("note"), "arange fixture");
}

TEST(Safetensors, ReadsSaeLensWeights) {
  SafetensorsFile f = load_safetensors(fixture("saelens_sae/sae_weights.safetensors"));
  EXPECT_EQ(f.tensor("W_enc").shape(), (HostTensor::Shape{8, 16}));
  EXPECT_EQ(f.tensor("W_dec").at({15, 7}), 127);
  EXPECT_TRUE(f.metadata.empty());
  EXPECT_NE(error_of([&] { f.tensor("W_gate"); }).find("no tensor 'W_gate'; it holds 'W_enc'"),
            std::string::npos);
}

TEST(Safetensors, RoundTrip) {
  test::TempDir dir;
  HostTensor base = HostTensor::arange(DType::BFloat16, {3, 4});
  std::vector<NamedTensor> tensors{
      {"transposed", HostTensor(DType::BFloat16, {4, 3}, {1, 4}, 0, base.storage())},
      {"ids", HostTensor::arange(DType::UInt64, {5})},
      {"mask", HostTensor::arange(DType::Bool, {3})},
      {"half", HostTensor::arange(DType::Float16, {1, 1, 2})}};
  save_safetensors(dir / "a.safetensors", tensors, {{"format", "pt"}, {"step", "10"}});
  SafetensorsFile f = load_safetensors(dir / "a.safetensors");
  ASSERT_EQ(f.tensors.size(), 4u);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(f.tensors[i].name, tensors[i].name);
    EXPECT_EQ(f.tensors[i].tensor.dtype(), tensors[i].tensor.dtype());
    EXPECT_EQ(f.tensors[i].tensor.shape(), tensors[i].tensor.shape());
    EXPECT_EQ(f.tensors[i].tensor.to_vector<double>(), tensors[i].tensor.to_vector<double>());
  }
  EXPECT_EQ(f.metadata.at("step"), "10");
  const std::string bytes = test::read_file(dir / "a.safetensors");
  std::uint64_t header = 0;
  std::memcpy(&header, bytes.data(), 8);
  EXPECT_EQ(header % 8, 0u);
}

TEST(Safetensors, SaveRefusesDuplicateNames) {
  test::TempDir dir;
  std::vector<NamedTensor> tensors{{"a", HostTensor(DType::Float32, {1})},
                                   {"a", HostTensor(DType::Float32, {1})}};
  EXPECT_THROW(save_safetensors(dir / "a.safetensors", tensors), Error);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// A file with the given header text and `data_size` data bytes.
std::filesystem::path make_file(const test::TempDir& dir, const std::string& header,
                                std::size_t data_size) {
  std::string bytes(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  bytes += header + std::string(data_size, '\x01');
  test::write_file(dir / "x.safetensors", bytes);
  return dir / "x.safetensors";
}

struct BadHeader {
  const char* name;
  std::string header;
  std::size_t data_size;
  const char* message;
};

class SafetensorsBadHeader : public ::testing::TestWithParam<BadHeader> {};

TEST_P(SafetensorsBadHeader, IsRejected) {
  test::TempDir dir;
  const auto path = make_file(dir, GetParam().header, GetParam().data_size);
  const std::string error = error_of([&] { load_safetensors(path); });
  EXPECT_NE(error.find("x.safetensors"), std::string::npos) << error;
  EXPECT_NE(error.find(GetParam().message), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Safetensors, SafetensorsBadHeader,
    ::testing::Values(
        BadHeader{"NotJson", "{nope", 0, "bad JSON"},
        BadHeader{"NotObject", "[1]", 0, "not a JSON object"},
        BadHeader{"Deep", std::string(100, '[') + std::string(100, ']'), 0, "nested deeper"},
        BadHeader{"UnknownDType", R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})",
                  1, "tensor 'a': unsupported dtype 'F8_E4M3'"},
        BadHeader{"NoShape", R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4,
                  "tensor 'a': no 'shape'"},
        BadHeader{"NegativeShape", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4,
                  "shape holds -1"},
        BadHeader{"SizeMismatch", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4,
                  "needs 8 bytes, data_offsets give 4"},
        BadHeader{"OutOfFile", R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}})", 4,
                  "outside the 4-byte data section"},
        BadHeader{"Overflow",
                  R"({"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}})",
                  0, "shape overflows"},
        BadHeader{"Hole", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2,
                  "leaving a hole"},
        BadHeader{"Overlap",
                  R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                  R"("b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                  2, "overlapping"},
        BadHeader{"TrailingBytes", R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 5,
                  "ends at byte 1 of a 5-byte data section"},
        BadHeader{"BadMetadata", R"({"__metadata__":{"a":1}})", 0, "__metadata__ 'a'"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Safetensors, RejectsBadLengthsAndShortFiles) {
  test::TempDir dir;
  test::write_file(dir / "short", "abc");
  EXPECT_NE(error_of([&] { load_safetensors(dir / "short"); }).find("truncated"),
            std::string::npos);
  std::string huge(8, '\xff');
  test::write_file(dir / "huge", huge + "{}");
  EXPECT_NE(error_of([&] { load_safetensors(dir / "huge"); }).find("header length"),
            std::string::npos);
}

}  // namespace
}  // namespace othrun
