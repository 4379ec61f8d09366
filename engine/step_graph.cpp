#include "engine/step_graph.hpp"

#include "engine/decode_step.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

StepGraph::StepGraph(const DeviceModel& model, const ContextOptions& options, const TaskData& d,
                     const ContextCache& cache, DecodeState& st) {
  cudaStream_t capture = nullptr;
  ARTABPFN_CUDA_CHECK(cudaStreamCreateWithFlags(&capture, cudaStreamNonBlocking));
  LayerRunner<> run(model, options, capture);
  ARTABPFN_CUDA_CHECK(cudaStreamBeginCapture(capture, cudaStreamCaptureModeThreadLocal));
  try {
    decode_step(run, d, cache, st);
  } catch (...) {
    cudaGraph_t broken = nullptr;
    cudaStreamEndCapture(capture, &broken);
    if (broken) cudaGraphDestroy(broken);
    cudaStreamDestroy(capture);
    throw;
  }
  const cudaError_t ended = cudaStreamEndCapture(capture, &graph_);
  cudaStreamDestroy(capture);
  ARTABPFN_CUDA_CHECK(ended);
  ARTABPFN_CUDA_CHECK(cudaGraphInstantiate(&exec_, graph_, 0));
}

StepGraph::~StepGraph() {
  if (exec_) cudaGraphExecDestroy(exec_);
  if (graph_) cudaGraphDestroy(graph_);
}

void StepGraph::launch(cudaStream_t stream) { ARTABPFN_CUDA_CHECK(cudaGraphLaunch(exec_, stream)); }

std::size_t StepGraph::nodes() const {
  std::size_t count = 0;
  ARTABPFN_CUDA_CHECK(cudaGraphGetNodes(graph_, nullptr, &count));
  return count;
}

}  // namespace artabpfn::engine
