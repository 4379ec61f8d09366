#pragma once
// A plain float32 CPU implementation of the model jobs, built like the engine: context K/V
// computed once per task (prefill) and kept as [H, Nc_t, Dh] blocks, a teacher-forcing pass
// through the split path (context attention + buffer attention + merge), and a decode path that
// appends buffer K/V per step and uses the fused attention. It is the implementation under test
// of the CPU mutation tests (mutants.hpp), separate from the reference.
//
// Tensors are flat row-major float vectors; shapes are those of the conformance contracts
// (docs/conformance_vectors.md).
#include <cstdint>
#include <vector>

#include "artabpfn/model_weights.hpp"

namespace artabpfn::conformance::cpu {

// Tasks in the padded layout of an inputs file: x_context [T, Nc_max, F], y_context [T, Nc_max],
// x_target [T, Nt_max, F], with per-task lengths.
struct TaskBatch {
  int tasks = 0, features = 1, nc_max = 0, nt_max = 0;
  std::vector<float> x_context, y_context, x_target;
  std::vector<int> context_len, target_len;
};

struct Mixtures {
  std::vector<float> mean, std, log_weight;  // [rows, K]
};

class Model {
 public:
  explicit Model(const ModelWeights& weights);
  const ModelConfig& config() const { return c_; }

  // Per-layer K and V of every context row: keys, values [L, T, Nc_max, D] (zero padding).
  void prefill_kv(const TaskBatch& tasks, std::vector<float>& keys, std::vector<float>& values) const;
  // log p(y_t | context, y_<t): y [T, R, Nt_max] -> [T, R, Nt_max] (NaN padding).
  std::vector<float> teacher_forcing_density(const TaskBatch& tasks, const std::vector<float>& y, int value_sets) const;
  std::vector<float> forced_ar_density(const TaskBatch& tasks, const std::vector<float>& y, int value_sets) const;
  // Joint samples [T, S, Nt_max] with the Philox stream (task id = position).
  std::vector<float> sample_sequence(const TaskBatch& tasks, int samples, std::uint64_t seed) const;
  // The head at rows z [n, D].
  Mixtures mixture_parameters(const std::vector<float>& z, std::int64_t rows) const;
  // One decode step t >= 1 of S samples of one task: context K/V [L, Nc, D], buffer caches
  // before [L, S, t-1, D] -> after [L, S, t, D]. x_target [Nt, F] with Nt > t.
  void buffer_kv_append(const std::vector<float>& x_target, int features, int step, const std::vector<float>& y_buffer,
                        const std::vector<float>& context_keys, const std::vector<float>& context_values, int nc,
                        const std::vector<float>& keys_before, const std::vector<float>& values_before,
                        std::vector<float>& keys_after, std::vector<float>& values_after) const;

  // The component pick of the random-stream contract (float32 cumulative sum vs the double
  // uniform) and the draw y = mean_k + std_k * (float)normal, for row `row` of m.
  int pick(const Mixtures& m, std::int64_t row, double uniform) const;
  float draw(const Mixtures& m, std::int64_t row, int component, double normal) const;

 private:
  struct Linear {
    const float* w;
    const float* b;  // nullptr: no bias
    int out, in;
  };
  struct Norm {
    const float *w, *b;
  };
  struct Layer {
    Linear feature_v, feature_out, q, k, v, out, ff_in, ff_out;
    Norm norm1, norm2, norm3;
  };
  struct ContextStore;  // per-layer [H, Nc_t, Dh] blocks of all tasks
  struct Decoder;

  std::vector<float> linear(const Linear& p, const std::vector<float>& x, std::int64_t rows) const;
  void layer_norm(const Norm& p, std::vector<float>& x, std::int64_t rows) const;
  std::vector<float> embed(const float* x, int features, const float* y, int marker, int position) const;
  template <class Attend>
  void layer(int l, std::vector<float>& x, std::int64_t rows, Attend&& attend) const;
  ContextStore prefill(const TaskBatch& tasks) const;
  // The AR loop of forced_ar_density and sample_sequence: per_task sequences of each task, one step
  // t at a time; value(m, b, t) gives sequence b's value at step t from the step's head mixtures m
  // (it feeds buffer t of the next step), and result(m, b, t) what the call returns there.
  template <class Value, class Result>
  std::vector<float> decode(const TaskBatch& tasks, int per_task, Value&& value, Result&& result) const;
  float log_density(const Mixtures& m, std::int64_t row, float y) const;

  const ModelWeights& w_;
  ModelConfig c_;
  std::vector<Layer> layers_;
  Norm final_norm_;
  Linear head_in_, head_out_;
  const float *mean_bias_, *std_bias_, *weight_bias_;
};

}  // namespace artabpfn::conformance::cpu
