// conformance_cuda_adapter VECTORS RESULTS: the CUDA kernels (kernels/attention.hpp,
// kernels/layer.hpp) and the engine's jobs (engine/session.hpp) run on every
// conformance case of a contract they expose:
//   attention contracts and merge_states   the kernels, one launch per case (the padded
//                                          [T, H, Nc_max, Dh] context repacked into the kernels'
//                                          per-task [H, Nc_t, Dh] blocks)
//   mixture_parameters, sampler (philox)   linear + GELU + linear, then mixture_params /
//                                          mixture_sample (the kernel draws its own Philox stream,
//                                          so the 'given' sampler cases are skipped)
//   teacher_forcing_density, forced_ar_density, sample_sequence
//                                          Session (ARTABPFN_CONFORMANCE_ATTENTION=split
//                                          or fused, default fused)
// prefill_kv and buffer_kv_append are not exposed by the engine: skipped.
// ARTABPFN_CONFORMANCE_PRECISION=tf32 or tf32x3 runs the model jobs and the head's products in
// that engine precision (default float32). The per-contract code
// is cuda_implementation.cpp (artabpfn_conformance_cuda, also run by `artabpfn verify`).
// conformance_cuda_adapter_mutants is the same program linked with the hooked kernel sources built
// with ARTABPFN_PLANTED_FAULTS: ARTABPFN_MUTANT=<name> plants a fault (planted_faults.cuh).
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#include "conformance/adapter.hpp"
#include "conformance/cuda/cuda_implementation.hpp"

int main(int argc, char** argv) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "conformance_cuda_adapter: no CUDA GPU\n");
    return 77;
  }
  const char* mutant = std::getenv("ARTABPFN_MUTANT");
#ifdef ARTABPFN_PLANTED_FAULTS
  if (mutant && *mutant) std::fprintf(stderr, "conformance_cuda_adapter_mutants: ARTABPFN_MUTANT=%s\n", mutant);
#else
  if (mutant && *mutant) {
    std::fprintf(stderr, "conformance_cuda_adapter: ARTABPFN_MUTANT is read only by conformance_cuda_adapter_mutants\n");
    return 2;
  }
#endif
  return artabpfn::conformance::adapter_main(argc, argv, artabpfn::conformance::cuda_implementation(),
                                             "conformance_cuda_adapter");
}
