// minGPT files do not record their head count in the weights: it is taken from the file where the
// file records it, from n_heads where the user states it, and refused otherwise (never guessed).
// The fixtures are written here with othrun's own torch.save writer.
#include <gtest/gtest.h>

#include <othrun/error.hpp>
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>
#include <othrun/torch/checkpoint.hpp>
#include <othrun/torch/hooked_transformer.hpp>

#include "reference.hpp"

namespace othrun::gpt {
namespace {

constexpr std::int64_t kModel = 16, kMlp = 32, kVocab = 61, kCtx = 4;

// One block of minGPT: d_model 16, which 1, 2, 4, 8 or 16 heads would all split.
std::vector<std::pair<std::string, HostTensor>> mingpt_tensors() {
  std::vector<std::pair<std::string, HostTensor>> t;
  auto add = [&t](std::string name, HostTensor::Shape shape) {
    t.emplace_back(std::move(name), HostTensor::arange(DType::Float32, std::move(shape)));
  };
  add("tok_emb.weight", {kVocab, kModel});
  add("pos_emb", {1, kCtx, kModel});
  for (const char* ln : {"ln1", "ln2"}) {
    add(std::string("blocks.0.") + ln + ".weight", {kModel});
    add(std::string("blocks.0.") + ln + ".bias", {kModel});
  }
  for (const char* m : {"query", "key", "value", "proj"}) {
    add(std::string("blocks.0.attn.") + m + ".weight", {kModel, kModel});
    add(std::string("blocks.0.attn.") + m + ".bias", {kModel});
  }
  add("blocks.0.attn.mask", {1, 1, kCtx, kCtx});
  add("blocks.0.mlp.0.weight", {kMlp, kModel});
  add("blocks.0.mlp.0.bias", {kMlp});
  add("blocks.0.mlp.2.weight", {kModel, kMlp});
  add("blocks.0.mlp.2.bias", {kModel});
  add("ln_f.weight", {kModel});
  add("ln_f.bias", {kModel});
  add("head.weight", {kVocab, kModel});
  return t;
}

// torch.save(model.state_dict()), plus `extra` top-level entries.
std::filesystem::path write_pth(const std::filesystem::path& path, PyValue::DictItems extra = {}) {
  PyValue::DictItems items;
  for (auto& [name, tensor] : mingpt_tensors()) items.emplace_back(name, tensor);
  for (auto& item : extra) items.push_back(std::move(item));
  save_pth(path, PyValue::ordered_dict(std::move(items)));
  return path;
}

const HostTensor& w_q(const LoadedCheckpoint& loaded) {
  const HostTensor* w = find_tensor(loaded.tensors, "blocks.0.attn.W_Q");
  if (w == nullptr) throw Error("no blocks.0.attn.W_Q");
  return *w;
}

std::string load_error(const std::filesystem::path& path, std::optional<std::int64_t> heads) {
  try {
    load_checkpoint(path, CheckpointFormat::Auto, heads);
  } catch (const DataError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(MinGptHeads, AStateDictAloneIsRefusedWithoutNHeads) {
  test::ScratchDir dir;
  const auto path = write_pth(dir.path() / "final.pth");
  EXPECT_EQ(load_error(path, std::nullopt),
            path.string() +
                ": a minGPT state dict does not record its head count (its attention weights "
                "split into any number of heads dividing d_model=16); state it with n_heads (8 for "
                "the original Othello-GPT's final.pth)");
  // The same refusal through the model loader, whose default used to be 8 heads.
  EXPECT_THROW(HookedTransformer::from_file(path, LoadOptions{}), DataError);
}

TEST(MinGptHeads, StatedHeadsSplitTheProjections) {
  test::ScratchDir dir;
  const auto path = write_pth(dir.path() / "final.pth");
  const LoadedCheckpoint four = load_checkpoint(path, CheckpointFormat::Auto, 4);
  ASSERT_EQ(w_q(four).shape(), (HostTensor::Shape{4, kModel, 4}));
  // W_Q[h, m, e] = query.weight[h * d_head + e, m]; arange makes that (h * 4 + e) * 16 + m.
  EXPECT_EQ(w_q(four).at({2, 5, 3}), (2 * 4 + 3) * kModel + 5);
  const LoadedCheckpoint eight = load_checkpoint(path, CheckpointFormat::Auto, 8);
  ASSERT_EQ(w_q(eight).shape(), (HostTensor::Shape{8, kModel, 2}));
  EXPECT_EQ(w_q(eight).at({2, 5, 1}), (2 * 2 + 1) * kModel + 5);

  LoadOptions options;
  options.mingpt_n_heads = 4;
  const auto model = HookedTransformer::from_file(path, options);
  EXPECT_EQ(model.config().n_heads, 4);
  EXPECT_EQ(model.config().d_head, 4);
}

TEST(MinGptHeads, AHeadCountRecordedInTheFileIsUsedAndChecked) {
  test::ScratchDir dir;
  const auto top = write_pth(dir.path() / "top.pth", {{"n_head", PyValue(std::int64_t{4})}});
  EXPECT_EQ(w_q(load_checkpoint(top)).shape(), (HostTensor::Shape{4, kModel, 4}));
  EXPECT_EQ(load_error(top, 8), top.string() + ": the file records n_head=4, but n_heads is 8");
  EXPECT_EQ(w_q(load_checkpoint(top, CheckpointFormat::Auto, 4)).shape()[0], 4);

  const auto nested =
      write_pth(dir.path() / "nested.pth",
                {{"config", PyValue::dict({{"n_layer", PyValue(std::int64_t{1})},
                                           {"n_head", PyValue(std::int64_t{2})}})}});
  EXPECT_EQ(w_q(load_checkpoint(nested)).shape(), (HostTensor::Shape{2, kModel, 8}));

  const auto bad = write_pth(dir.path() / "bad.pth", {{"n_heads", PyValue("four")}});
  EXPECT_EQ(load_error(bad, std::nullopt),
            bad.string() + ": n_heads is 'four', expected a positive integer head count");

  std::vector<NamedTensor> tensors;
  for (auto& [name, tensor] : mingpt_tensors()) tensors.push_back({name, tensor});
  const auto safetensors = dir.path() / "final.safetensors";
  save_safetensors(safetensors, tensors, {{"n_head", "4"}});
  EXPECT_EQ(w_q(load_checkpoint(safetensors)).shape(), (HostTensor::Shape{4, kModel, 4}));
  const auto unrecorded = dir.path() / "plain.safetensors";
  save_safetensors(unrecorded, tensors);
  EXPECT_NE(load_error(unrecorded, std::nullopt).find("does not record its head count"),
            std::string::npos);
}

}  // namespace
}  // namespace othrun::gpt
