#include "engine/profiling.hpp"

#include <atomic>
#include <chrono>
#include <utility>

#include "artabpfn/error.hpp"
#include "artabpfn/median.hpp"
#include "engine/decode_state.hpp"
#include "engine/decode_step.hpp"
#include "engine/passes.hpp"
#include "engine/stage_recorder.hpp"
#include "engine/step_graph.hpp"
#include "engine/stream.hpp"
#include "kernels/cuda_check.hpp"

namespace artabpfn::engine {

namespace {

constexpr int kWarmUpReplays = 5;

// Prefills d on run's stream and runs steps 0..step-1 of `samples` sampled sequences per task
// through the step's graph, so that the state is ready to replay step `step`.
struct StepAtHand {
  ContextCache cache;
  DecodeState st;
  StepGraph graph;

  StepAtHand(LayerRunner<>& run, const TaskData& d, std::int64_t samples, int step)
      : cache(prefill(run, d)),
        st(run.config(), d, 0, std::int64_t(d.tasks) * samples, samples, true, 7, {}, run.stream()),
        graph(run.model(), run.options(), d, cache, st) {
    kernels::set_device_int(st.step.data(), 0, run.stream());
    for (int t = 0; t < step; ++t) graph.launch(run.stream());
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(run.stream()));
  }
};

// One replay of decode step `step` timed with CUDA events, in microseconds; the step counter is
// set back first (a replay of the step is idempotent).
class StepTimer {
 public:
  StepTimer(cudaStream_t stream, int* step_counter, int step) : stream_(stream), counter_(step_counter), step_(step) {
    ARTABPFN_CUDA_CHECK(cudaEventCreate(&start_));
    ARTABPFN_CUDA_CHECK(cudaEventCreate(&stop_));
  }
  ~StepTimer() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  StepTimer(const StepTimer&) = delete;
  StepTimer& operator=(const StepTimer&) = delete;

  template <class Body>
  double us(Body&& body) {
    kernels::set_device_int(counter_, step_, stream_);
    ARTABPFN_CUDA_CHECK(cudaEventRecord(start_, stream_));
    body();
    ARTABPFN_CUDA_CHECK(cudaEventRecord(stop_, stream_));
    ARTABPFN_CUDA_CHECK(cudaEventSynchronize(stop_));
    float ms = 0;
    ARTABPFN_CUDA_CHECK(cudaEventElapsedTime(&ms, start_, stop_));
    return 1000.0 * double(ms);
  }

 private:
  cudaStream_t stream_;
  int* counter_;
  int step_;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

// A host gate in the stream: the GPU waits until the host has queued everything behind it (or
// 2 s passed, e.g. a full launch queue; then timed_out).
struct Gate {
  std::atomic<bool> open{false}, timed_out{false};
  static void CUDART_CB wait(void* self) {
    auto* gate = static_cast<Gate*>(self);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!gate->open.load(std::memory_order_acquire))
      if (std::chrono::steady_clock::now() > deadline) {
        gate->timed_out = true;
        return;
      }
  }
};

void check_step(const char* job, const TaskData& d, int step, int replays) {
  if (step < 0 || step >= d.nt_max || replays < 1)
    throw InputError(std::string(job) + ": needs 0 <= step < Nt and replays >= 1");
}

}  // namespace

StepTiming time_decode_step(const DeviceModel& model, const SessionOptions& options, const TaskTensors& tasks,
                            std::int64_t samples, int step, int replays) {
  const Stream stream;
  const TaskData d(tasks, model.config().d_model, stream.get());
  check_step("time_decode_step", d, step, replays);
  LayerRunner<> run(model, options, stream.get());
  StepAtHand at(run, d, samples, step);
  StepTimer timer(stream.get(), at.st.step.data(), step);
  const auto median_us = [&](auto&& body) {
    std::vector<double> us;
    for (int i = 0; i < replays + kWarmUpReplays; ++i) {
      const double t = timer.us(body);
      if (i >= kWarmUpReplays) us.push_back(t);
    }
    return median(us);
  };
  StepTiming timing;
  timing.eager_us = median_us([&] { decode_step(run, d, at.cache, at.st); });
  timing.graph_us = median_us([&] { at.graph.launch(stream.get()); });
  timing.graph_nodes = at.graph.nodes();
  return timing;
}

// Per replay, on one decode state at step `step`: the marked eager step (queued behind a gate),
// the unmarked eager step and the graph replay; medians after the warm-up replays.
StepProfile profile_decode_step(const DeviceModel& model, const SessionOptions& options, const TaskTensors& tasks,
                                std::int64_t samples, int step, int replays) {
  const Stream stream;
  const cudaStream_t s = stream.get();
  const TaskData d(tasks, model.config().d_model, s);
  check_step("profile_decode_step", d, step, replays);
  if (options.attention == AttentionMode::kReencode) throw InputError("profile_decode_step: split or fused attention only");
  SessionOptions plain = options;
  plain.fuse_epilogues = false;  // the stages are marked on the sequence of separate launches
  plain.decode_layers = DecodeLayers::kPerLayer;
  LayerRunner<> run(model, plain, s);
  StepAtHand at(run, d, samples, step);
  StepProfile profile;
  profile.graph_nodes = at.graph.nodes();
  StepTimer timer(s, at.st.step.data(), step);
  StageRecorder recorder;
  LayerRunner<RecordedStageMarks> marked(model, plain, s, RecordedStageMarks{&recorder});
  StageRecorder::StageSamples stages;
  std::vector<double> staged, eager, replayed;
  for (int i = 0; i < replays + kWarmUpReplays; ++i) {
    kernels::set_device_int(at.st.step.data(), step, s);
    Gate gate;
    ARTABPFN_CUDA_CHECK(cudaLaunchHostFunc(s, Gate::wait, &gate));
    recorder.restart();
    try {
      decode_step(marked, d, at.cache, at.st);
      recorder.close(s);
    } catch (...) {
      gate.open = true;
      cudaStreamSynchronize(s);
      throw;
    }
    gate.open.store(true, std::memory_order_release);
    ARTABPFN_CUDA_CHECK(cudaStreamSynchronize(s));
    if (gate.timed_out) profile.queued_ahead = false;
    StageRecorder::StageSamples warm_up;
    const double marked_us = recorder.collect(i >= kWarmUpReplays ? stages : warm_up);
    const double e = timer.us([&] { decode_step(run, d, at.cache, at.st); });
    const double g = timer.us([&] { at.graph.launch(s); });
    if (i < kWarmUpReplays) continue;
    staged.push_back(marked_us);
    eager.push_back(e);
    replayed.push_back(g);
  }
  for (auto& [stage, samples_us] : stages) profile.stages.push_back({stage_name(stage), median(samples_us)});
  profile.staged_us = median(staged);
  profile.eager_us = median(eager);
  profile.graph_us = median(replayed);
  return profile;
}

}  // namespace artabpfn::engine
