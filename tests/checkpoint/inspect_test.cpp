#include <othrun/error.hpp>
#include <othrun/inspect.hpp>

#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "checkpoint_test_util.hpp"

namespace othrun {
namespace {

using test::fixture;
using ::testing::HasSubstr;

std::string inspect(const std::filesystem::path& path) {
  std::ostringstream out;
  inspect_file(path, out);
  return out.str();
}

// Whether `text` has a line made of `words` (whitespace between columns does not matter).
::testing::AssertionResult has_row(const std::string& text, const std::vector<std::string>& words) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::vector<std::string> got;
    for (std::string w; in >> w;) got.push_back(w);
    if (got == words) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no row '" << words.front() << " ...' in\n" << text;
}

TEST(Inspect, SaeTrainingCheckpoint) {
  const std::string text =
      inspect(fixture("final_sparse_autoencoder_othello-gpt_blocks.6.hook_resid_pre_16.pt"));
  EXPECT_THAT(text, HasSubstr("torch.save archive, pickle protocol 2, 4 tensors (1.1 KiB)"));
  EXPECT_TRUE(has_row(text, {"state_dict.W_enc", "float32", "[8,", "16]"}));
  EXPECT_TRUE(has_row(text, {"state_dict.b_dec", "float32", "[8]"}));
  EXPECT_TRUE(has_row(text, {"cfg", "sae_training.config.LanguageModelSAERunnerConfig"}));
  EXPECT_TRUE(has_row(text, {"cfg.d_in", "8"}));
  EXPECT_TRUE(has_row(text, {"cfg.model_name", "'othello-gpt'"}));
  EXPECT_TRUE(has_row(text, {"cfg.device", "device(type='cuda')"}));
  EXPECT_TRUE(has_row(text, {"cfg.dtype", "torch.float32"}));
  EXPECT_TRUE(has_row(text, {"cfg.l1_coefficient", "0.0002"}));
  EXPECT_TRUE(has_row(text, {"cfg.hooks", "[6,", "'resid_pre']"}));
}

TEST(Inspect, BareTensorAndViews) {
  EXPECT_TRUE(has_row(inspect(fixture("linear_probe.pth")),
                      {"<root>", "float32", "[3,", "16,", "8,", "8,", "3]"}));
  EXPECT_TRUE(has_row(inspect(fixture("views.pth")),
                      {"transposed", "float32", "[6,", "4]", "(strided", "view)"}));
}

TEST(Inspect, SafetensorsWithMetadata) {
  const std::string text = inspect(fixture("dtypes.safetensors"));
  EXPECT_THAT(text, HasSubstr("safetensors, 12 tensors"));
  EXPECT_TRUE(has_row(text, {"bfloat16", "bfloat16", "[2,", "3]"}));
  EXPECT_TRUE(has_row(text, {"scalar", "float32", "[]"}));
  EXPECT_THAT(text, HasSubstr("metadata:\n"));
  EXPECT_TRUE(has_row(text, {"format", "'pt'"}));
}

TEST(Inspect, SaeLensFolder) {
  const std::string text = inspect(fixture("saelens_sae"));
  EXPECT_THAT(text, HasSubstr("SAELens folder"));
  EXPECT_LT(text.find("cfg.json"), text.find("sae_weights.safetensors"));
  EXPECT_TRUE(has_row(text, {"architecture", "\"jumprelu\""}));
  EXPECT_TRUE(has_row(text, {"d_sae", "16"}));
  EXPECT_TRUE(has_row(text, {"metadata.hook_name", "\"blocks.6.hook_resid_pre\""}));
  EXPECT_TRUE(has_row(text, {"W_enc", "float32", "[8,", "16]"}));
  EXPECT_TRUE(has_row(text, {"sparsity", "float32", "[16]"}));
}

TEST(Inspect, NestedValuesAndStateDict) {
  const std::string nested = inspect(fixture("nested.pth"));
  EXPECT_TRUE(has_row(nested, {"weights.1", "int64", "[3]"}));
  EXPECT_TRUE(has_row(nested, {"config.sizes", "[1,", "2,", "3]"}));
  EXPECT_TRUE(has_row(nested, {"config.nested.deep.0", "{'x':", "1}"}));
  const std::string protocol = inspect(fixture("protocol_4.pth"));
  EXPECT_TRUE(has_row(protocol, {"raw", "b'\\x00\\xffab'"}));
  EXPECT_TRUE(has_row(protocol, {"device", "device(type='cuda',", "index=1)"}));
}

TEST(Inspect, Errors) {
  test::TempDir dir;
  test::write_file(dir / "notes.txt", "hello world");
  EXPECT_THROW(inspect(dir / "notes.txt"), DataError);
  EXPECT_THROW(inspect(dir.path()), DataError);  // a folder without SAE files
  EXPECT_THROW(inspect(dir / "missing.pth"), DataError);
  try {
    inspect(fixture("legacy.pth"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_THAT(e.what(), HasSubstr("legacy"));
  }
}

}  // namespace
}  // namespace othrun
