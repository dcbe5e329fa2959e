// The inference step's `device`: cpu, cuda, or auto (CUDA when this build has the CUDA forward and
// the machine a usable GPU, else the CPU). The CUDA side is plugins/cuda_inference/cuda_step.cpp
// when CUDA is built, else no_cuda.cpp, which says it is not.
#pragma once

#include <othrun/plugin.hpp>

#include <optional>
#include <string>

#include "options.hpp"

namespace othrun::inference {

enum class Device { Cpu, Cuda };

// Why the CUDA forward cannot run here ("not built ..." or the CUDA runtime's reason), or nullopt.
std::optional<std::string> cuda_unavailable_reason();

// `device: cuda` where the CUDA forward cannot run: ConfigError("device", the reason).
void check_device(const std::string& device);

// cpu, cuda, or what auto resolves to (logged).
Device choose_device(const std::string& device);

// The whole step on the GPU: the CUDA counterpart of Inference::run.
void run_on_cuda(const Options& options, RunContext& ctx);

}  // namespace othrun::inference
