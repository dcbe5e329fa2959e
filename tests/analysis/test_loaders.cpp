// SAE and probe loaders on fixture files of every format, against the originals' outputs
// (tests/fixtures/make_analysis_fixtures.py).
#include "harness.hpp"

#include <othrun/analysis/probe.hpp>
#include <othrun/analysis/sae.hpp>
#include <othrun/error.hpp>
#include <othrun/pth.hpp>
#include <othrun/safetensors.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <limits>

using namespace othrun;
using namespace othrun::analysis;
using analysis_test::fixture;

namespace {

void expect_close(const std::vector<float>& a, const std::vector<float>& b, float tol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << what << " at " << i;
}

std::vector<float> values(const SafetensorsFile& file, const std::string& name) {
  return file.tensor(name).to_vector<float>();
}

void check_forward(const Sae& sae, const std::string& expected_file) {
  auto expected = load_safetensors(fixture(expected_file));
  const auto x = values(expected, "x");
  const auto rows = static_cast<std::int64_t>(x.size()) / sae.d_in;
  std::vector<float> acts(static_cast<std::size_t>(rows * sae.d_sae)), out(x.size());
  sae.encode(x.data(), rows, acts.data());
  sae.decode(acts.data(), rows, out.data());
  expect_close(acts, values(expected, "acts"), 2e-5f, expected_file + " acts");
  expect_close(out, values(expected, "out"), 2e-5f, expected_file + " out");
}

}  // namespace

TEST(SaeLoader, SaeTrainingFile) {
  const Sae sae = load_sae(fixture("sae_training.pt"));
  EXPECT_EQ(sae.format, "sae_training");
  EXPECT_EQ(sae.d_in, 16);
  EXPECT_EQ(sae.d_sae, 24);
  EXPECT_EQ(sae.hook_name, "blocks.6.hook_resid_pre");
  check_forward(sae, "sae_training.expected.safetensors");
}

TEST(SaeLoader, SaeTrainingMseDefinition) {
  const Sae sae = load_sae(fixture("sae_training.pt"));
  auto expected = load_safetensors(fixture("sae_training.expected.safetensors"));
  const auto x = values(expected, "x");
  const std::int64_t rows = static_cast<std::int64_t>(x.size()) / sae.d_in;
  std::vector<float> acts(static_cast<std::size_t>(rows * sae.d_sae)), out(x.size());
  sae.encode(x.data(), rows, acts.data());
  sae.decode(acts.data(), rows, out.data());
  SparseRows sparse;
  sparse.cols = sae.d_sae;
  sparse.append_dense(acts.data(), rows);
  SaeMetrics metrics(sae.d_in, sae.d_sae);
  metrics.consume(x.data(), out.data(), sparse);
  EXPECT_NEAR(metrics.mse_sae_training(), values(expected, "mse_sae_training")[0], 1e-6);
  EXPECT_NEAR(metrics.l0(), static_cast<double>(sparse.nnz()) / static_cast<double>(rows), 1e-12);
}

TEST(SaeLoader, SaeLensArchitectures) {
  const std::map<std::string, SaeArchitecture> cases{{"standard", SaeArchitecture::Standard},
                                                     {"topk", SaeArchitecture::TopK},
                                                     {"jumprelu", SaeArchitecture::JumpReLU},
                                                     {"gated", SaeArchitecture::Gated},
                                                     {"topk_legacy", SaeArchitecture::TopK}};
  for (const auto& [name, arch] : cases) {
    SCOPED_TRACE(name);
    const Sae sae = load_sae(fixture("saelens_" + name));
    EXPECT_EQ(sae.architecture, arch);
    EXPECT_EQ(sae.hook_name, "blocks.6.hook_resid_pre");
    check_forward(sae, "saelens_" + name + ".expected.safetensors");
  }
  EXPECT_EQ(load_sae(fixture("saelens_topk")).k, 4);
  EXPECT_EQ(load_sae(fixture("saelens_topk_legacy")).k, 5);
  EXPECT_FALSE(load_sae(fixture("saelens_jumprelu")).apply_b_dec_to_input);
}

TEST(SaeLoader, RejectsUnsupportedNormalisation) {
  analysis_test::TempDir dir;
  std::filesystem::copy(fixture("saelens_standard"), dir.path() / "sae");
  std::ofstream(dir.path() / "sae/cfg.json")
      << R"({"d_in": 16, "d_sae": 24, "architecture": "standard", "normalize_activations": "layer_norm"})";
  try {
    load_sae(dir.path() / "sae");
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("normalize_activations 'layer_norm' is not supported"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(load_sae(dir.path() / "missing"), DataError);
}

TEST(ProbeLoader, CollapseAsTheNotebook) {
  auto expected = load_safetensors(fixture("probe.expected.safetensors"));
  const Probe raw = load_probe(fixture("probe.pth"), false);
  EXPECT_EQ(raw.d_model, 8);
  expect_close(raw.weights, values(expected, "probe"), 1e-6f, "probe");
  expect_close(raw.blank_dir, values(expected, "blank_dir"), 1e-6f, "blank_dir");
  expect_close(raw.mine_dir, values(expected, "mine_dir"), 1e-6f, "mine_dir");
  const Probe unit = load_probe(fixture("probe.pth"), true);
  expect_close(unit.blank_dir, values(expected, "blank_dir_norm"), 1e-6f, "blank_dir_norm");
  expect_close(unit.mine_dir, values(expected, "mine_dir_norm"), 1e-6f, "mine_dir_norm");
  EXPECT_THROW(load_probe(fixture("sae_training.pt"), false), DataError);
}

TEST(SaeLoader, CfgJsonTypeErrorsNameTheFileAndTheField) {
  analysis_test::TempDir dir;
  std::filesystem::copy(fixture("saelens_standard"), dir.path() / "sae");
  const std::string cfg = (dir.path() / "sae/cfg.json").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"d_in": "64", "d_sae": 24})", cfg + ": 'd_in' must be an integer, got \"64\""},
      {R"({"d_in": 16})", cfg + ": missing 'd_sae'"},
      {R"({"d_in": 16, "d_sae": 24.5})", cfg + ": 'd_sae' must be an integer, got 24.5"},
      {R"({"d_in": 16, "d_sae": 24, "apply_b_dec_to_input": "yes"})",
       cfg + ": 'apply_b_dec_to_input' must be true or false, got \"yes\""},
      {R"({"d_in": 16, "d_sae": 24, "architecture": 3})",
       cfg + ": 'architecture' must be a string, got 3"},
      {R"({"d_in": 16, "d_sae": 24, "activation_fn_kwargs": {"k": "4"}})",
       cfg + ": 'activation_fn_kwargs.k' must be an integer, got \"4\""},
      {R"([16, 24])", cfg + ": expected a JSON object"},
  };
  for (const auto& [text, expected] : cases) {
    std::ofstream(cfg) << text;
    try {
      load_sae(dir.path() / "sae");
      ADD_FAILURE() << "expected a DataError for " << text;
    } catch (const DataError& e) {
      EXPECT_EQ(std::string(e.what()), expected) << text;
    }
  }
}

TEST(SaeLoader, WarnsOfNonFiniteWeightsNamingTensorAndFile) {
  analysis_test::TempDir dir;
  std::filesystem::copy(fixture("saelens_standard"), dir.path() / "sae");
  const auto weights = dir.path() / "sae/sae_weights.safetensors";
  ::testing::internal::CaptureStderr();
  load_sae(dir.path() / "sae");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // the fixture's weights are finite

  std::vector<NamedTensor> tensors = load_safetensors(weights).tensors;
  for (auto& t : tensors) {
    if (t.name != "W_dec") continue;
    std::vector<float> v = t.tensor.to_vector<float>();
    v[0] = std::numeric_limits<float>::quiet_NaN();
    v[7] = std::numeric_limits<float>::infinity();
    v[9] = std::numeric_limits<float>::quiet_NaN();
    t.tensor = HostTensor::from_values<float>(t.tensor.shape(), std::span<const float>(v));
  }
  save_safetensors(weights, tensors);
  ::testing::internal::CaptureStderr();
  load_sae(dir.path() / "sae");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(
      err.find(weights.string() + ": tensor 'W_dec' holds 2 NaN and 1 infinite values (of 384)"),
      std::string::npos)
      << err;
  EXPECT_EQ(err.find("'W_enc'"), std::string::npos) << err;
}

TEST(ProbeLoader, WarnsOfNonFiniteWeights) {
  analysis_test::TempDir dir;
  const PthFile original = load_pth(fixture("probe.pth"));
  std::vector<float> v = original.tensors.front().tensor.to_vector<float>();
  v[3] = -std::numeric_limits<float>::infinity();
  const auto path = dir.path() / "probe.pth";
  save_pth(path, PyValue(HostTensor::from_values<float>(original.tensors.front().tensor.shape(),
                                                        std::span<const float>(v))));
  ::testing::internal::CaptureStderr();
  load_probe(path, false);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find(path.string() + ": tensor '(the probe)' holds 0 NaN and 1 infinite values"),
            std::string::npos)
      << err;
}
