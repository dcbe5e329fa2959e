// othrun/torch_bridge.hpp: HostTensor <-> at::Tensor without copies. Built with OTHRUN_WITH_TORCH.
#include <othrun/pth.hpp>
#include <othrun/torch_bridge.hpp>

#include <gtest/gtest.h>

#include "checkpoint_test_util.hpp"

namespace othrun {
namespace {

TEST(TorchBridge, EveryDTypeToTorch) {
  for (DType d : {DType::Bool, DType::UInt8, DType::Int8, DType::Int16, DType::Int32, DType::Int64,
                  DType::Float16, DType::BFloat16, DType::Float32, DType::Float64}) {
    HostTensor h = HostTensor::arange(d, {2, 3});
    at::Tensor t = to_torch(h);
    EXPECT_EQ(t.scalar_type(), to_torch_dtype(d));
    at::Tensor want = at::arange(6, at::kDouble).reshape({2, 3});
    if (d == DType::Bool) want = at::remainder(want, 2);
    EXPECT_TRUE(at::equal(t.to(at::kDouble), want)) << to_string(d);
    EXPECT_EQ(from_torch(t).to_vector<double>(), h.to_vector<double>()) << to_string(d);
  }
  EXPECT_THROW(to_torch(HostTensor(DType::UInt64, {1})), std::invalid_argument);
}

TEST(TorchBridge, ViewsShareMemoryBothWays) {
  HostTensor base = HostTensor::arange(DType::Float32, {4, 6});
  HostTensor slice(DType::Float32, {2, 3}, {1, 6}, 8, base.storage());
  at::Tensor t = to_torch(slice);
  EXPECT_EQ(t.strides(), (std::vector<std::int64_t>{1, 6}));
  EXPECT_EQ(t[1][2].item<float>(), 8 + 1 + 12);
  t[0][0] = 100.0f;  // writes through
  EXPECT_EQ(base.at({1, 2}), 100.0);

  at::Tensor a = at::arange(12, at::kLong).reshape({3, 4}).t();
  HostTensor h = from_torch(a);
  EXPECT_EQ(h.strides(), (HostTensor::Shape{1, 4}));
  EXPECT_EQ(h.at({3, 2}), 11);
  a[0][0] = 42;
  EXPECT_EQ(h.at({0, 0}), 42);
}

TEST(TorchBridge, ConvertedTensorsOutliveTheirSource) {
  at::Tensor t;
  {
    HostTensor h = HostTensor::arange(DType::Int32, {5});
    t = to_torch(h);
  }
  EXPECT_EQ(t[4].item<int>(), 4);
  HostTensor h;
  { h = from_torch(at::arange(3, at::kDouble).narrow(0, 1, 2)); }
  EXPECT_EQ(h.offset(), 1);
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_EQ(from_torch(at::empty({0, 3})).shape(), (HostTensor::Shape{0, 3}));
}

TEST(TorchBridge, CheckpointTensorsIntoTorch) {
  PthFile f = load_pth(test::fixture("views.pth"));
  at::Tensor transposed = to_torch(f.tensor("transposed"));
  at::Tensor base = to_torch(f.tensor("base"));
  EXPECT_TRUE(at::equal(transposed, base.t()));
}

}  // namespace
}  // namespace othrun
