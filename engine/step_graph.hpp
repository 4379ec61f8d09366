#pragma once
// One decode step captured as a CUDA graph and replayed: its launches do not depend on t (read
// from device memory), so one graph serves every step of a chunk.
#include <cuda_runtime.h>

#include <cstddef>

#include "engine/session_options.hpp"
#include "engine/decode_state.hpp"
#include "engine/device_model.hpp"
#include "engine/task_data.hpp"

namespace artabpfn::engine {

class StepGraph {
 public:
  // Captures decode_step for st on a private stream in thread-local capture mode, so that other
  // threads' contexts are undisturbed.
  StepGraph(const DeviceModel& model, const SessionOptions& options, const TaskData& d, const ContextCache& cache,
            DecodeState& st);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  void launch(cudaStream_t stream);
  std::size_t nodes() const;  // kernels in the step

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
};

}  // namespace artabpfn::engine
