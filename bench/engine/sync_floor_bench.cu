// sync_floor_bench: what one dependency between two stages costs on this GPU, whatever the
// stages compute; the floor under any design of the decode step (bench/engine/NOTES.md, "What
// one dependency costs"). Each row times N dependent steps of empty work:
//   graph, PDL     N empty kernels (one block per SM, 128 threads) in a CUDA graph, each launched
//                  with programmatic dependent launch and waiting for its predecessor on the
//                  device (kernels/launch.cuh), as the engine's decode step does
//   graph, plain   the same kernels launched without PDL
//   grid barrier   one cooperative kernel (1 or 2 blocks per SM) crossing N grid-wide barriers
//   cluster barrier  one kernel of 8-block clusters on every SM crossing N cluster barriers
// CUDA events, median of 21 timed runs after 3 warm-ups; "us a dependency" = median / N.
#include <CLI/CLI.hpp>
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <cstdio>
#include <string>
#include <vector>

#include "bench/event_timing.hpp"
#include "kernels/cuda_check.hpp"
#include "kernels/device.hpp"
#include "kernels/launch.cuh"

namespace {

namespace cg = cooperative_groups;
using artabpfn::kernels::detail::launch;
using artabpfn::kernels::detail::launch_in_clusters;

__global__ void empty_pdl_kernel() { artabpfn::kernels::detail::start_after_previous_kernel(); }
__global__ void empty_plain_kernel() {}

__global__ void grid_barrier_kernel(int barriers) {
  const cg::grid_group grid = cg::this_grid();
  for (int i = 0; i < barriers; ++i) grid.sync();
}

__global__ void cluster_barrier_kernel(int barriers) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  const cg::cluster_group cluster = cg::this_cluster();
  for (int i = 0; i < barriers; ++i) cluster.sync();
#endif
}

// Median milliseconds of 21 runs of f on `stream` after 3 warm-ups.
template <class F>
double median_ms(cudaStream_t stream, F&& f) {
  return artabpfn::bench::median_event_ms(stream, 3, 21, f);
}

// N launches of `kernel` captured as one graph; returns the median replay time (ms).
double graph_of_kernels(void (*kernel)(), bool pdl, int kernels, int blocks, cudaStream_t stream) {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  ARTABPFN_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < kernels; ++i) {
    if (pdl) {
      launch(kernel, blocks, 128, 0, stream);
    } else {
      kernel<<<blocks, 128, 0, stream>>>();
      ARTABPFN_CHECK_LAUNCH();
    }
  }
  ARTABPFN_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  ARTABPFN_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  const double ms = median_ms(stream, [&] { ARTABPFN_CUDA_CHECK(cudaGraphLaunch(exec, stream)); });
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  return ms;
}

double grid_barriers(int barriers, int blocks, cudaStream_t stream) {
  void* args[] = {&barriers};
  return median_ms(stream, [&] {
    ARTABPFN_CUDA_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<void*>(grid_barrier_kernel), blocks, 128, args,
                                                    0, stream));
  });
}

double cluster_barriers(int barriers, int blocks, cudaStream_t stream) {
  return median_ms(stream, [&] { launch_in_clusters(cluster_barrier_kernel, blocks, 128, dim3(8, 1, 1), 0, stream, barriers); });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"what one dependency between two stages costs: PDL and plain kernels in a graph, grid and cluster barriers"};
  int kernels = 200, barriers = 2000;
  app.add_option("--kernels", kernels, "dependent kernels in the graph")->check(CLI::PositiveNumber);
  app.add_option("--barriers", barriers, "barriers crossed by the one kernel")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (const std::string why = artabpfn::kernels::gpu_unavailable_reason(); !why.empty()) {
    std::fprintf(stderr, "sync_floor_bench: no usable GPU: %s\n", why.c_str());
    return 1;
  }
  const int sms = artabpfn::kernels::gpu_info().sms;
  int per_sm = 0;
  ARTABPFN_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, grid_barrier_kernel, 128, 0));
  cudaStream_t stream = nullptr;
  ARTABPFN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  std::printf("%s; %d SMs\n%-48s %10s %16s\n", artabpfn::kernels::gpu_description().c_str(), sms, "dependency",
              "total ms", "us a dependency");
  const auto row = [](const std::string& what, double ms, int count) {
    std::printf("%-48s %10.3f %16.3f\n", what.c_str(), ms, 1000.0 * ms / count);
  };
  const std::string n = std::to_string(kernels), b = std::to_string(barriers), g = std::to_string(sms);
  row("graph, PDL: " + n + " empty kernels of " + g + " blocks",
      graph_of_kernels(empty_pdl_kernel, true, kernels, sms, stream), kernels);
  row("graph, plain: " + n + " empty kernels of " + g + " blocks",
      graph_of_kernels(empty_plain_kernel, false, kernels, sms, stream), kernels);
  for (const int blocks_per_sm : {1, 2})
    if (blocks_per_sm <= per_sm)
      row("grid barrier: " + std::to_string(blocks_per_sm * sms) + " blocks, " + b + " barriers",
          grid_barriers(barriers, blocks_per_sm * sms, stream), barriers);
  row("cluster barrier: " + std::to_string(sms / 8 * 8) + " blocks in 8s, " + b + " barriers",
      cluster_barriers(barriers, sms / 8 * 8, stream), barriers);
  cudaStreamDestroy(stream);
  return 0;
}
