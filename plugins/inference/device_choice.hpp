// The inference step's `device`: cpu, cuda, or auto (CUDA when this build has the CUDA backend and
// the machine a usable GPU, else the CPU). The CUDA side is the backend library (cuda_backend.hpp),
// loaded only when a step may run on the GPU.
#pragma once

#include <othrun/plugin.hpp>

#include <string>

#include "options.hpp"

namespace othrun::inference {

enum class Device { Cpu, Cuda };

// `device: cuda` where the CUDA backend cannot run: ConfigError("device", the reason).
void check_device(const std::string& device);

// cpu, cuda, or what auto resolves to (logged, with the reason when it is the CPU).
Device choose_device(const std::string& device);

// For `othrun --list` / --describe: the CUDA device's state as a note on an available plugin.
Availability cuda_note();

// The whole step on the GPU through the backend: the CUDA counterpart of Inference::run. Its
// errors come back as Error / ConfigError, as the CPU path's.
void run_on_cuda_backend(const Options& options, RunContext& ctx);

}  // namespace othrun::inference
