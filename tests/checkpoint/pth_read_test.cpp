// load_pth on files torch 1.13 wrote (tests/fixtures/make_checkpoint_fixtures.py): every tensor
// holds arange values, element i being i in its dtype (bool: i % 2 == 1).
#include <othrun/error.hpp>
#include <othrun/pth.hpp>

#include <cmath>

#include <gtest/gtest.h>

#include "checkpoint/zip_reader.hpp"
#include "checkpoint/zip_writer.hpp"
#include "checkpoint_test_util.hpp"

namespace othrun {
namespace {

using test::fixture;

void expect_arange(const HostTensor& t, const HostTensor::Shape& shape, std::int64_t start = 0) {
  ASSERT_EQ(t.shape(), shape);
  const std::vector<double> values = t.to_vector<double>();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto expected = static_cast<double>(start + static_cast<std::int64_t>(i));
    if (t.dtype() == DType::Bool) {
      ASSERT_EQ(values[i], std::fmod(expected, 2.0)) << "element " << i;
    } else {
      ASSERT_EQ(values[i], expected) << "element " << i;
    }
  }
}

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

class BareTensor : public ::testing::TestWithParam<DType> {};

TEST_P(BareTensor, HoldsArange) {
  const DType dtype = GetParam();
  PthFile f = load_pth(fixture(std::string("tensor_") + to_string(dtype) + ".pth"));
  ASSERT_EQ(f.root.kind(), PyValue::Kind::Tensor);
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].name, "");
  EXPECT_EQ(f.pickle_protocol, 2);
  const HostTensor& t = f.tensor("");
  EXPECT_EQ(t.dtype(), dtype);
  EXPECT_TRUE(t.is_contiguous());
  expect_arange(t, {3, 4});
}

INSTANTIATE_TEST_SUITE_P(Pth, BareTensor,
                         ::testing::Values(DType::Float32, DType::Float16, DType::BFloat16,
                                           DType::Float64, DType::Int64, DType::Int32, DType::Int16,
                                           DType::Int8, DType::UInt8, DType::Bool),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(Pth, LinearProbeIsOneFiveDimensionalTensor) {
  PthFile f = load_pth(fixture("linear_probe.pth"));
  const HostTensor& probe = f.root.as_tensor();
  EXPECT_EQ(probe.dtype(), DType::Float32);
  expect_arange(probe, {3, 16, 8, 8, 3});
  EXPECT_EQ(probe.at({2, 15, 7, 7, 2}), 3 * 16 * 8 * 8 * 3 - 1);
}

TEST(Pth, ModuleStateDictIsAnOrderedDictWithMetadata) {
  PthFile f = load_pth(fixture("state_dict_ordered.pth"));
  ASSERT_TRUE(f.root.is_ordered_dict());
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors[0].name, "0.weight");
  EXPECT_EQ(f.tensors[1].name, "0.bias");
  EXPECT_EQ(f.tensors[2].name, "1.weight");
  EXPECT_EQ(f.tensors[3].name, "1.bias");
  expect_arange(f.tensor("0.weight"), {4, 3});
  expect_arange(f.tensor("1.bias"), {4});
  // state_dict()._metadata, pickled as the OrderedDict's BUILD state
  const PyValue* metadata = f.root.state().find("_metadata");
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ((*metadata)["0"]["version"].as_int(), 1);
}

TEST(Pth, OneKeyDict) {
  PthFile f = load_pth(fixture("one_key.pth"));
  ASSERT_EQ(f.root.kind(), PyValue::Kind::Dict);
  ASSERT_EQ(f.root.dict_items().size(), 1u);
  expect_arange(f.tensor("only"), {2, 2});
}

TEST(Pth, NestedValues) {
  PthFile f = load_pth(fixture("nested.pth"));
  const PyValue& c = f.root["config"];
  EXPECT_EQ(c["n_layers"].as_int(), 8);
  EXPECT_EQ(c["name"].as_string(), "othello");
  ASSERT_EQ(c["sizes"].items().size(), 3u);
  EXPECT_EQ(c["sizes"].items()[2].as_int(), 3);
  EXPECT_EQ(c["ratio"].as_float(), 0.5);
  EXPECT_TRUE(c["flag"].as_bool());
  EXPECT_TRUE(c["nothing"].is_none());
  EXPECT_EQ(c["big"].as_int(), std::int64_t{1} << 40);
  EXPECT_EQ(c["negative"].as_int(), -7);
  EXPECT_EQ(c["pair"].repr(), "(1, 'a')");
  EXPECT_EQ(c["nested"]["deep"].items()[0]["x"].as_int(), 1);
  ASSERT_EQ(f.tensors.size(), 2u);
  EXPECT_EQ(f.tensors[0].name, "weights.0");
  expect_arange(f.tensor("weights.1"), {3});
  EXPECT_EQ(f.tensor("weights.1").dtype(), DType::Int64);
  EXPECT_THROW(c["n_layers"].as_string(), DataError);
  EXPECT_THROW(c["missing"], DataError);
}

TEST(Pth, ViewsKeepOffsetsStridesAndSharedStorage) {
  PthFile f = load_pth(fixture("views.pth"));
  const HostTensor& base = f.tensor("base");
  expect_arange(base, {4, 6});
  const HostTensor& transposed = f.tensor("transposed");
  EXPECT_EQ(transposed.strides(), (HostTensor::Shape{1, 6}));
  EXPECT_FALSE(transposed.is_contiguous());
  EXPECT_EQ(transposed.at({5, 3}), 3 * 6 + 5);
  const HostTensor& slice = f.tensor("slice");
  EXPECT_EQ(slice.offset(), 8);
  EXPECT_EQ(slice.to_vector<float>(), (std::vector<float>{8, 9, 10, 14, 15, 16}));
  EXPECT_EQ(f.tensor("row").offset(), 12);
  expect_arange(f.tensor("row"), {6}, 12);
  EXPECT_EQ(f.tensor("every_other").strides(), (HostTensor::Shape{6, 2}));
  EXPECT_EQ(f.tensor("every_other").at({3, 2}), 22);
  for (const char* name : {"transposed", "slice", "row", "every_other"}) {
    EXPECT_EQ(f.tensor(name).storage(), base.storage()) << name;
  }
  EXPECT_NE(f.tensor("other").storage(), base.storage());
  EXPECT_EQ(f.tensor("other").dtype(), DType::Float64);
  EXPECT_EQ(f.tensor("tied_a").storage(), f.tensor("tied_b").storage());
  expect_arange(f.tensor("tied_b"), {5});
}

TEST(Pth, SaeTrainingCheckpointWithPickledDataclass) {
  PthFile f =
      load_pth(fixture("final_sparse_autoencoder_othello-gpt_blocks.6.hook_resid_pre_16.pt"));
  const PyValue& cfg = f.root["cfg"];
  ASSERT_EQ(cfg.kind(), PyValue::Kind::Object);
  EXPECT_EQ(cfg.class_name(), "sae_training.config.LanguageModelSAERunnerConfig");
  EXPECT_EQ(cfg["model_name"].as_string(), "othello-gpt");
  EXPECT_EQ(cfg["hook_point"].as_string(), "blocks.6.hook_resid_pre");
  EXPECT_EQ(cfg["hook_point_layer"].as_int(), 6);
  EXPECT_TRUE(cfg["hook_point_head_index"].is_none());
  EXPECT_EQ(cfg["d_in"].as_int(), 8);
  EXPECT_EQ(cfg["expansion_factor"].as_int(), 2);
  EXPECT_DOUBLE_EQ(cfg["l1_coefficient"].as_float(), 2e-4);
  EXPECT_DOUBLE_EQ(cfg["lr"].as_float(), 3e-5);
  EXPECT_EQ(cfg["start_pos_offset"].as_int(), 5);
  EXPECT_TRUE(cfg["use_ghost_grads"].as_bool());
  EXPECT_EQ(cfg["device"].kind(), PyValue::Kind::Device);
  EXPECT_EQ(cfg["device"].as_string(), "cuda");
  EXPECT_EQ(cfg["dtype"].kind(), PyValue::Kind::DType);
  EXPECT_EQ(cfg["dtype"].as_dtype(), DType::Float32);
  EXPECT_EQ(cfg["hooks"].repr(), "[6, 'resid_pre']");
  EXPECT_TRUE(f.root["state_dict"].is_ordered_dict());
  ASSERT_EQ(f.tensors.size(), 4u);
  expect_arange(f.tensor("state_dict.W_enc"), {8, 16});
  expect_arange(f.tensor("state_dict.b_enc"), {16});
  expect_arange(f.tensor("state_dict.W_dec"), {16, 8});
  expect_arange(f.tensor("state_dict.b_dec"), {8});
}

class Protocol : public ::testing::TestWithParam<int> {};

TEST_P(Protocol, MixedPayload) {
  PthFile f = load_pth(fixture("protocol_" + std::to_string(GetParam()) + ".pth"));
  EXPECT_EQ(f.pickle_protocol, GetParam() >= 2 ? GetParam() : 0);
  const PyValue& v = f.root;
  expect_arange(f.tensor("f32"), {2, 3});
  expect_arange(f.tensor("bf16"), {4});
  EXPECT_EQ(f.tensor("bf16").dtype(), DType::BFloat16);
  expect_arange(f.tensor("i64"), {3});
  EXPECT_EQ(v["text"].as_string(), "othello");
  EXPECT_EQ(v["long_text"].as_string(), std::string(300, 'x'));
  EXPECT_EQ(v["unicode"].as_string(), "caf\xc3\xa9 \xe2\x86\x92 \xf0\x9f\x98\x80");
  const std::vector<std::int64_t> ints{0,         255,          256,           65535,
                                       65536,     -1,           -2147483648LL, 2147483648LL,
                                       1LL << 40, -(1LL << 40), INT64_MAX,     INT64_MIN};
  ASSERT_EQ(v["ints"].items().size(), ints.size());
  for (std::size_t i = 0; i < ints.size(); ++i) EXPECT_EQ(v["ints"].items()[i].as_int(), ints[i]);
  EXPECT_EQ(v["float"].as_float(), -1.25);
  EXPECT_EQ(v["flags"].repr(), "(True, False, None)");
  EXPECT_EQ(v["raw"].kind(), PyValue::Kind::Bytes);
  EXPECT_EQ(v["raw"].as_string(), std::string("\x00\xff"
                                              "ab",
                                              4));
  EXPECT_EQ(v["numbers"].kind(), PyValue::Kind::Set);
  EXPECT_EQ(v["numbers"].repr(), "{1, 2, 3}");
  EXPECT_EQ(v["frozen"].repr(), "{'a'}");
  EXPECT_EQ(v["device"].as_string(), "cuda:1");
  EXPECT_EQ(v["dtype"].as_dtype(), DType::BFloat16);
  EXPECT_EQ(v["nested"].repr(),
            "{'list': [[1, 2], {'k': 'v'}], 'empty': {}, 'empty_list': [], 'empty_tuple': ()}");
}

INSTANTIATE_TEST_SUITE_P(Pth, Protocol, ::testing::Values(1, 2, 3, 4, 5));

TEST(Pth, MissingTensorNameListsWhatExists) {
  PthFile f = load_pth(fixture("one_key.pth"));
  const std::string error = error_of([&] { f.tensor("W_enc"); });
  EXPECT_NE(error.find("one_key.pth: no tensor 'W_enc'; it holds 'only'"), std::string::npos)
      << error;
}

TEST(Pth, UnsupportedFormatsSayWhatTheyAre) {
  EXPECT_NE(error_of([] { load_pth(fixture("legacy.pth")); }).find("legacy torch.save format"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_pth(fixture("compressed.pth")); }).find("is compressed"),
            std::string::npos);
  EXPECT_NE(error_of([] { load_pth(fixture("dtypes.safetensors")); }).find("not a torch.save"),
            std::string::npos);
}

// Archives made from a fixture's records with one record replaced or added.
class EditedArchive : public ::testing::Test {
 protected:
  std::filesystem::path edit(const std::string& replace, const std::string& with,
                             const std::string& add = "") {
    checkpoint::ZipReader src(fixture("one_key.pth"));
    const auto out = dir_ / "edited.pth";
    checkpoint::ZipWriter zip(out);
    for (const auto& e : src.entries()) {
      if (e.name == replace) {
        zip.add(e.name, std::as_bytes(std::span<const char>(with.data(), with.size())));
      } else {
        zip.add(e.name, src.read(e));
      }
    }
    if (!add.empty()) zip.add(add, {});
    zip.commit();
    return out;
  }
  test::TempDir dir_;
};

TEST_F(EditedArchive, StorageRecordOfTheWrongSize) {
  const std::string error = error_of([&] { load_pth(edit("one_key/data/0", "123")); });
  EXPECT_NE(error.find("zip entry 'one_key/data/0': holds 3 bytes, but the pickle says 4 float32"),
            std::string::npos)
      << error;
}

TEST_F(EditedArchive, TorchScriptArchive) {
  const std::string error = error_of([&] { load_pth(edit("", "", "one_key/constants.pkl")); });
  EXPECT_NE(error.find("TorchScript"), std::string::npos) << error;
}

TEST_F(EditedArchive, MissingStorageRecord) {
  checkpoint::ZipReader src(fixture("one_key.pth"));
  const auto out = dir_ / "missing.pth";
  checkpoint::ZipWriter zip(out);
  zip.add("one_key/data.pkl", src.read(*src.find("one_key/data.pkl")));
  zip.commit();
  const std::string error = error_of([&] { load_pth(out); });
  EXPECT_NE(error.find("'one_key/data/0': missing zip entry"), std::string::npos) << error;
}

}  // namespace
}  // namespace othrun
