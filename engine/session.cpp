// The facade: each job checks its inputs and options, then runs on the context's stream
// (joint_density, decoding, reencode; decode_plan for the plan).
#include "engine/session.hpp"

#include <string>
#include <utility>
#include <vector>

#include "artabpfn/error.hpp"
#include "engine/decoding.hpp"
#include "engine/joint_density.hpp"
#include "engine/reencode.hpp"
#include "engine/sequences.hpp"

namespace artabpfn::engine {

namespace {

// The reencode baseline runs in float32 only.
void require_reencode_precision(const SessionOptions& options, const char* job) {
  if (options.attention == AttentionMode::kReencode && options.precision != Precision::kFloat32)
    throw InputError(std::string(job) + ": the reencode baseline runs in float32 only (precision '" +
                     precision_name(options.precision) + "' asked)");
}

// The decode jobs run in float32, tf32 and tf32x3.
void require_decode_precision(const SessionOptions& options, const char* job) {
  if (options.precision == Precision::kMixed)
    throw InputError(std::string(job) + ": precision 'mixed' serves evaluate_joint_density only; the decode jobs run in "
                     "float32, tf32 or tf32x3");
  require_reencode_precision(options, job);
}

}  // namespace

Session::Session(const DeviceModel& model, SessionOptions options)
    : model_(model), options_(std::move(options)) {}

HostTensor<float> Session::sample_sequence(const TaskTensors& tasks, std::int64_t samples, std::uint64_t seed) {
  if (samples < 1) throw InputError("sample_sequence: samples must be at least 1");
  if (samples > std::int64_t(UINT32_MAX)) throw InputError("sample_sequence: at most 2^32 - 1 samples per task");
  require_decode_precision(options_, "sample_sequence");
  if (options_.attention == AttentionMode::kReencode)
    return reencode(model_, options_, stream_.get(), tasks, samples, seed, true);
  return decode_in_chunks(model_, options_, stream_.get(), "sample_sequence", tasks, samples, true, seed);
}

DecodePlan Session::decode_plan(const TaskTensors& tasks, std::int64_t per_task) const {
  if (per_task < 1 || per_task > std::int64_t(UINT32_MAX))
    throw InputError("decode_plan: per_task must be 1 to 2^32 - 1 sequences per task");
  const std::vector<std::int32_t> task_of_sample = sequence_tasks(0, tasks.task_count() * per_task, per_task);
  const std::int64_t clustered = clustered_samples(options_, model_.config(), task_of_sample);
  return {clustered, std::int64_t(task_of_sample.size()) - clustered};
}

HostTensor<float> Session::forced_ar_density(const TaskTensors& tasks) {
  if (!tasks.y_target) throw InputError("forced_ar_density: inputs have no y_target");
  require_decode_precision(options_, "forced_ar_density");
  if (options_.attention == AttentionMode::kReencode)
    return reencode(model_, options_, stream_.get(), tasks, 0, 0, false);
  return decode_in_chunks(model_, options_, stream_.get(), "forced_ar_density", tasks, tasks.value_sets(), false, 0);
}

HostTensor<float> Session::evaluate_joint_density(const TaskTensors& tasks) {
  if (!tasks.y_target) throw InputError("evaluate_joint_density: inputs have no y_target");
  require_reencode_precision(options_, "evaluate_joint_density");
  if (options_.attention == AttentionMode::kReencode)
    return reencode(model_, options_, stream_.get(), tasks, 0, 0, false);
  return teacher_forcing_density(model_, options_, stream_.get(), tasks);
}

}  // namespace artabpfn::engine
