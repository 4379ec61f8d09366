#pragma once
// Hardware ceilings measured in the benchmark's own process (bench/engine/NOTES.md, "End-to-end
// benchmarks"): the FP32 FMA rate of a kernel of independent FMA chains and the bandwidth of a
// device-to-device copy, plus the peaks the device properties imply, for comparison.
#include <string>

namespace artabpfn::bench {

struct MeasuredCeilings {
  double fma_flops_per_s = 0;   // FP32, non-tensor: median over runs of the FMA kernel
  double copy_bytes_per_s = 0;  // cudaMemcpyAsync device to device, bytes read + written per second
  double copy_size_bytes = 0;
  // From the device attributes: SMs x 128 FP32 lanes (sm_80 and later except sm_80 itself, which
  // has 64) x 2 x SM clock, and 2 x memory clock x bus width. 0 where unknown.
  double properties_flops_per_s = 0, properties_bytes_per_s = 0;
};

MeasuredCeilings measure_ceilings(bool quick);

}  // namespace artabpfn::bench
