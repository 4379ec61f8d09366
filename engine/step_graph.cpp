#include "engine/step_graph.hpp"

#include "engine/decode_step.hpp"
#include "engine/stream.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

StepGraph::StepGraph(const DeviceModel& model, const SessionOptions& options, const TaskData& d,
                     const ContextCache& cache, DecodeState& st) {
  const Stream capture;
  LayerRunner<> run(model, options, capture.get());
  ARTABPFN_CUDA_CHECK(cudaStreamBeginCapture(capture.get(), cudaStreamCaptureModeThreadLocal));
  try {
    decode_step(run, d, cache, st);
  } catch (...) {
    cudaGraph_t broken = nullptr;
    cudaStreamEndCapture(capture.get(), &broken);
    if (broken) cudaGraphDestroy(broken);
    throw;
  }
  ARTABPFN_CUDA_CHECK(cudaStreamEndCapture(capture.get(), &graph_));
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
