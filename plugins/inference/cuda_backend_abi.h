/* The C ABI between the inference plugin and its CUDA backend, libothrun_cuda_backend.so
 * (plugins/inference/cuda). The plugin dlopens the backend only when a step may run on a GPU, so a
 * CPU-only run never maps libcudart or cuBLAS (docs/inference.md, "CUDA"). The backend exports one
 * function, othrun_cuda_backend(), returning a table of plain functions; no exception and no C++
 * type crosses it except the two opaque objects of run_step, built from the same source tree as
 * the backend (abi_version guards a backend from another build). */
#ifndef OTHRUN_CUDA_BACKEND_ABI_H
#define OTHRUN_CUDA_BACKEND_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever the table or othrun::inference::Options changes. */
#define OTHRUN_CUDA_BACKEND_ABI_VERSION 1u

/* run_step's results. */
#define OTHRUN_CUDA_OK 0
#define OTHRUN_CUDA_ERROR 1        /* message: what failed */
#define OTHRUN_CUDA_CONFIG_ERROR 2 /* key: the parameter; message: what is wrong with it */

typedef struct OthrunCudaBackend {
  uint32_t abi_version; /* OTHRUN_CUDA_BACKEND_ABI_VERSION; the first member, read first */
  /* 1 when device 0 is usable (text: its name), 0 when not (text: why not, from
   * cudaGetDeviceCount). text is always NUL-terminated, cut to size. Never fails otherwise. */
  int (*device_status)(char* text, size_t size);
  /* The whole inference step on device 0. options: const othrun::inference::Options*; ctx:
   * othrun::RunContext*. Returns OTHRUN_CUDA_OK or an error code with key and message filled
   * (NUL-terminated, cut to their sizes). */
  int (*run_step)(const void* options, void* ctx, char* key, size_t key_size, char* message,
                  size_t message_size);
} OthrunCudaBackend;

/* The backend's one exported symbol. */
const OthrunCudaBackend* othrun_cuda_backend(void);
#define OTHRUN_CUDA_BACKEND_ENTRY "othrun_cuda_backend"
#define OTHRUN_CUDA_BACKEND_FILE "libothrun_cuda_backend.so"

#ifdef __cplusplus
}
#endif

#endif
