// The CUDA engine against the double reference on random small models (random D, H with head
// dims that are not powers of two, layers, K, L) and random batches of tasks (Nc from 0, Nt
// above buffer_size, several tasks of different sizes per call):
//   - teacher-forcing densities within tolerance::kEngineFactor x the error of the plain float32
//     reference (reference<float>, in four summation orders) plus tolerance::kEngineFloor, for
//     split and fused attention and the reencode baseline (whose densities come from re-encoding
//     at every step); split equals fused within the sum of their limits;
//   - forced AR densities the same, and equal to teacher forcing within the same bound;
//   - every sampled value (any attention mode) is what the reference sampler draws from the
//     reference mixture at that step (given the engine's earlier values), to float32 rounding; a component pick may differ
//     only where its uniform lies within rounding of a cumulative boundary (counted, printed);
//   - sampling is bitwise reproducible: across runs, sample counts, chunkings and threads;
//   - mixed precision (SessionOptions::precision): teacher-forcing densities equal to the double
//     reference with the mixed path's float32 roundings (inputs, q, k, v, attention output,
//     mixture rows, the result) and nothing else rounded, to the result's float32 rounding;
//     bitwise the same in chunks; the decode jobs refuse it;
//   - progress reports count every step over chunks and change no result.
// The cluster decode step's properties: decode_properties_test.cpp.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "artabpfn/error.hpp"
#include "engine/session.hpp"
#include "conformance/plain/model_jobs.hpp"
#include "conformance/plain/tf32_jobs.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"
#include "properties/gpu_engine/engine_cases.hpp"
#include "tests/support/gpu_available.hpp"
#include "tests/support/permuted_model.hpp"
#include "tests/support/random_model.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/ratio_log.hpp"

namespace artabpfn::test_support {
namespace {

using reference::InputMatrix;

// The rule on random small models: tolerance::kEngineFactor x the plain float32 error (four
// summation orders) + tolerance::kEngineFloor (tolerance/constants.hpp says why); the models have
// D >= 8 (engine_case). At the paper's size the fixture parity test holds the engine to
// tolerance::kEngineFixtureFactor.
tolerance::Bound engine_bound(double plain_error) {
  return {tolerance::kEngineFactor, plain_error, tolerance::kEngineFloor};
}

struct Errors {
  double engine = 0, baseline = 0;
  double largest = 0;  // the largest |density| of the double reference
};

// The same task with its context rows reversed or rotated by one: the same function (the context
// is a set) with other float32 summation orders.
reference::TaskInputs reordered_context(reference::TaskInputs task, bool reverse) {
  const Eigen::Index n = task.context_size();
  if (n < 2) return task;
  if (reverse) {
    task.x_context = task.x_context.colwise().reverse().eval();
    task.y_context = task.y_context.reverse().eval();
    return task;
  }
  reference::TaskInputs rotated = task;
  for (Eigen::Index i = 0; i < n; ++i) {
    rotated.x_context.row(i) = task.x_context.row((i + 1) % n);
    rotated.y_context(i) = task.y_context((i + 1) % n);
  }
  return rotated;
}

// Engine [T, R, Nt] against reference double; the baseline is the largest error of the plain
// float32 reference in four summation orders (one order alone can be luckily exact): as given,
// the context reversed and rotated, and the model's hidden units relabelled (the one other order
// where the context has fewer than two rows; a D 8 model with one context row measured 3.6e-4 as
// given and 1.6e-4 to 6.5e-3 over eight relabellings).
template <class Reference>
Errors density_errors(const HostTensor<float>& got, const Batch& b, Reference&& job) {
  const auto tasks = reference::split_tasks(b.tensors);
  const auto values = reference::split_target_values(b.tensors);
  const auto p64 = reference::ModelParams<double>::from_weights(b.weights);
  const auto p32 = reference::ModelParams<float>::from_weights(b.weights);
  std::mt19937_64 relabelling(b.weights.config.d_model);
  const auto p32_relabelled = permuted_hidden_units(p32, relabelling);
  Errors e;
  const std::int64_t sets = got.dim(1), nt = got.dim(2);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const auto exact = job(p64, tasks[i], values[i]);
    const auto plain = job(p32, tasks[i], values[i]);
    const auto plain_reversed = job(p32, reordered_context(tasks[i], true), values[i]);
    const auto plain_rotated = job(p32, reordered_context(tasks[i], false), values[i]);
    const auto plain_relabelled = job(p32_relabelled, tasks[i], values[i]);
    for (std::int64_t r = 0; r < sets; ++r)
      for (Eigen::Index t = 0; t < exact.cols(); ++t) {
        const double g = got.data[std::size_t((std::int64_t(i) * sets + r) * nt + t)];
        e.engine = std::max(e.engine, std::isfinite(g) ? std::abs(g - exact(r, t)) : INFINITY);
        e.largest = std::max(e.largest, std::abs(exact(r, t)));
        e.baseline = std::max({e.baseline, std::abs(double(plain(r, t)) - exact(r, t)),
                               std::abs(double(plain_reversed(r, t)) - exact(r, t)),
                               std::abs(double(plain_rotated(r, t)) - exact(r, t)),
                               std::abs(double(plain_relabelled(r, t)) - exact(r, t))});
      }
  }
  return e;
}

template <class T>
reference::Matrix<T> teacher_forcing_rows(const reference::ModelParams<T>& p, const reference::TaskInputs& task,
                                          const InputMatrix& y) {
  reference::Matrix<T> out(y.rows(), y.cols());
  for (Eigen::Index r = 0; r < y.rows(); ++r)
    out.row(r) = reference::teacher_forcing(p, task, y.row(r).transpose()).logpdf.transpose();
  return out;
}

// Models of width 8 and more (head dims 3 to 7 and 8 to 21 included). Below that the float32
// error is a maximum over a handful of badly conditioned values and too noisy a yardstick: a
// D = 3, H = 1 model reached 14x against it (H200, with the decode path of the time).
rc::Gen<SmallCase> engine_case() {
  return rc::gen::suchThat(small_case(), [](const SmallCase& c) { return c.config.d_model >= 8; });
}

TEST(EngineProperties, DensitiesMatchReferenceForBothAttentionModes) {
  ARTABPFN_REQUIRE_GPU();
  tolerance::RatioLog& ratios = tolerance::RatioLog::global();
  EXPECT_TRUE(rc::check("engine densities vs reference", [&] {
    const SmallCase c = *engine_case();
    const int tasks = *rc::gen::inRange(1, 4), sets = *rc::gen::inRange(1, 3);
    const Batch b = random_batch(c, tasks, sets);
    const engine::DeviceModel model(b.weights);
    HostTensor<float> fused_tf, split_tf;
    double baseline = 0;
    for (const auto mode : {engine::AttentionMode::kFused, engine::AttentionMode::kSplit,
                             engine::AttentionMode::kReencode}) {
      engine::Session session(model, quiet(mode));
      const HostTensor<float> tf = session.evaluate_joint_density(b.tensors);
      const HostTensor<float> ar = session.forced_ar_density(b.tensors);
      const Errors e_tf = density_errors(tf, b, [](const auto& p, const auto& task, const auto& y) {
        return teacher_forcing_rows(p, task, y);
      });
      const Errors e_ar = density_errors(ar, b, [](const auto& p, const auto& task, const auto& y) {
        return reference::forced_ar_logpdf(p, task, y);
      });
      RC_LOG() << "mode " << engine::attention_mode_name(mode) << ": tf " << e_tf.engine << " (float32 "
               << e_tf.baseline << "), ar " << e_ar.engine << " (float32 " << e_ar.baseline << ")\n";
      const tolerance::Bound tf_bound = engine_bound(e_tf.baseline), ar_bound = engine_bound(e_ar.baseline);
      RC_ASSERT(tolerance::within_limit(e_tf.engine, tf_bound.limit()));
      RC_ASSERT(tolerance::within_limit(e_ar.engine, ar_bound.limit()));
      ratios.add("engine teacher forcing", e_tf.engine, tf_bound);
      ratios.add("engine forced AR", e_ar.engine, ar_bound);
      baseline = e_tf.baseline;
      if (mode == engine::AttentionMode::kFused) fused_tf = tf;
      if (mode == engine::AttentionMode::kSplit) split_tf = tf;
    }
    // Split equals fused: each is within the limit of the reference, so they are within the sum
    // of the two limits.
    const double limit = 2 * engine_bound(baseline).limit();
    for (std::size_t i = 0; i < fused_tf.data.size(); ++i)
      if (std::isfinite(fused_tf.data[i]))
        RC_ASSERT(tolerance::within_limit(std::abs(fused_tf.data[i] - split_tf.data[i]), limit));
  }));
  // Cases where the float32 reference is exact to a few ulps make the largest ratios; the floor
  // covers them.
  ratios.print("engine teacher forcing");
  ratios.print("engine forced AR");
}

// The plain tf32x3 implementation's largest error against the double reference (the cpu
// backend's tf32x3: conformance/plain/tf32_jobs.hpp with the split product), teacher forcing or
// forced AR.
double plain_tf32x3_error(const Batch& b, bool teacher_forcing) {
  const conformance::plain::Tf32Jobs jobs(b.weights, conformance::plain::Products::tf32x3());
  const auto tasks = reference::split_tasks(b.tensors);
  const auto values = reference::split_target_values(b.tensors);
  const auto p64 = reference::ModelParams<double>::from_weights(b.weights);
  double error = 0;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const reference::Matrix<double> exact = teacher_forcing ? teacher_forcing_rows(p64, tasks[i], values[i])
                                                            : reference::forced_ar_logpdf(p64, tasks[i], values[i]);
    const reference::Matrix<float> plain = teacher_forcing
                                               ? conformance::plain::teacher_forcing_rows(jobs, tasks[i], values[i])
                                               : jobs.forced_ar_logpdf(tasks[i], values[i]);
    for (Eigen::Index k = 0; k < exact.size(); ++k)
      error = std::max(error, std::abs(double(plain.data()[k]) - exact.data()[k]));
  }
  return error;
}

// tf32x3 (SessionOptions::precision: every linear map on the tensor cores in the split
// arithmetic) on random small models, both attention modes, teacher forcing and forced AR: the
// engine rule over the larger of the plain float32 error (four summation orders) and the plain
// tf32x3 implementation's error. Against float32's error alone it does not hold on these models
// (measured: docs/precisions.md, "The engine's precisions on the GPU"); "[ratio]" lines print
// both.
TEST(EngineProperties, Tf32x3DensitiesMatchReference) {
  ARTABPFN_REQUIRE_GPU();
  tolerance::RatioLog& ratios = tolerance::RatioLog::global();
  EXPECT_TRUE(rc::check("engine tf32x3 densities vs reference", [&] {
    const SmallCase c = *engine_case();
    const Batch b = random_batch(c, *rc::gen::inRange(1, 4), *rc::gen::inRange(1, 3));
    const engine::DeviceModel model(b.weights);
    const double split_tf = plain_tf32x3_error(b, true), split_ar = plain_tf32x3_error(b, false);
    for (const auto mode : {engine::AttentionMode::kFused, engine::AttentionMode::kSplit}) {
      engine::SessionOptions options = quiet(mode);
      options.precision = engine::Precision::kTf32x3;
      engine::Session session(model, options);
      const Errors e_tf = density_errors(session.evaluate_joint_density(b.tensors), b,
                                         [](const auto& p, const auto& task, const auto& y) {
                                           return teacher_forcing_rows(p, task, y);
                                         });
      const Errors e_ar = density_errors(session.forced_ar_density(b.tensors), b,
                                         [](const auto& p, const auto& task, const auto& y) {
                                           return reference::forced_ar_logpdf(p, task, y);
                                         });
      RC_LOG() << "mode " << engine::attention_mode_name(mode) << ": tf " << e_tf.engine << " (float32 "
               << e_tf.baseline << ", tf32x3 " << split_tf << "), ar " << e_ar.engine << " (float32 " << e_ar.baseline
               << ", tf32x3 " << split_ar << ")\n";
      const tolerance::Bound tf_bound = engine_bound(std::max(e_tf.baseline, split_tf));
      const tolerance::Bound ar_bound = engine_bound(std::max(e_ar.baseline, split_ar));
      RC_ASSERT(tolerance::within_limit(e_tf.engine, tf_bound.limit()));
      RC_ASSERT(tolerance::within_limit(e_ar.engine, ar_bound.limit()));
      ratios.add("engine tf32x3 teacher forcing", e_tf.engine, tf_bound);
      ratios.add("engine tf32x3 forced AR", e_ar.engine, ar_bound);
      ratios.add("engine tf32x3 teacher forcing, float32 baseline alone", e_tf.engine, engine_bound(e_tf.baseline));
      ratios.add("engine tf32x3 forced AR, float32 baseline alone", e_ar.engine, engine_bound(e_ar.baseline));
    }
  }));
  for (const char* name : {"engine tf32x3 teacher forcing", "engine tf32x3 forced AR",
                           "engine tf32x3 teacher forcing, float32 baseline alone",
                           "engine tf32x3 forced AR, float32 baseline alone"})
    ratios.print(name);
}

// The mixed path's arithmetic as the double reference plus its float32 roundings: task inputs
// and values, q, k, v, every attention output and the head's mixture rows; everything else in
// double. Teacher-forcing log densities of one value row y (in double; the engine rounds them to
// float32 last).
template <class M>
reference::Matrix<double> rounded(const M& m) {
  return m.template cast<float>().template cast<double>();
}

Eigen::VectorXd mixed_emulation(const reference::ModelParams<double>& p, reference::TaskInputs task,
                                Eigen::VectorXd y) {
  using namespace reference;
  task.x_context = rounded(task.x_context);
  task.y_context = rounded(task.y_context);
  task.x_target = rounded(task.x_target);
  y = rounded(y);
  const Eigen::Index nc = task.context_size(), nt = task.target_count();
  Matrix<double> x(nc + 2 * nt, p.config.d_model);
  x.topRows(nc) = embed_context(p, task);
  for (Eigen::Index j = 0; j < nt; ++j) {
    x.row(nc + j) = embed_buffer(p, task, j, y(j));
    x.row(nc + nt + j) = embed_target(p, task, j);
  }
  for (const LayerParams<double>& layer : p.layers) {
    const Matrix<double> h = feature_stage(layer, x);
    const Matrix<double> a = rounded(multi_head_attention<double>(
        p.config.n_heads, rounded(apply_linear(layer.q, h)), rounded(apply_linear(layer.k, h)),
        rounded(apply_linear(layer.v, h)), TeacherForcingVisibility{nc, nt}));
    x = post_attention(layer, h, a);
  }
  const Matrix<double> z = layer_norm(p.final_norm, x).bottomRows(nt);
  const auto mixtures = mixture_from_rows(p, rounded(mixture_rows(p, z)));
  Eigen::VectorXd logpdf(nt);
  for (Eigen::Index t = 0; t < nt; ++t) logpdf(t) = log_density(mixtures[std::size_t(t)], y(t));
  return logpdf;
}

TEST(EngineProperties, MixedPrecisionDensitiesMatchTheirEmulationAndChunkBitwise) {
  ARTABPFN_REQUIRE_GPU();
  const std::string reported = "engine mixed precision (reported, not asserted)";
  EXPECT_TRUE(rc::check("mixed-precision densities vs reference", [&] {
    const SmallCase c = *engine_case();
    const Batch b = random_batch(c, *rc::gen::inRange(1, 4), *rc::gen::inRange(1, 3));
    const engine::DeviceModel model(b.weights);
    engine::SessionOptions options = quiet(engine::AttentionMode::kFused);
    options.precision = engine::Precision::kMixed;
    engine::Session session(model, options);
    const HostTensor<float> tf = session.evaluate_joint_density(b.tensors);
    const Errors e = density_errors(tf, b, [](const auto& p, const auto& task, const auto& y) {
      return teacher_forcing_rows(p, task, y);
    });
    RC_LOG() << "mixed: tf " << e.engine << " (float32 " << e.baseline << ", largest |density| " << e.largest << ")\n";
    tolerance::RatioLog::global().add(reported, e.engine, {0.0, e.baseline, 0.0});
    // Against the emulation: the result's rounding (2^-24 relative) and the double arithmetic's
    // own differences in order (1e-9 of the density is ~1e7 double ulps of headroom).
    const auto tasks = reference::split_tasks(b.tensors);
    const auto values = reference::split_target_values(b.tensors);
    const auto p64 = reference::ModelParams<double>::from_weights(b.weights);
    const std::int64_t sets = tf.dim(1), nt = tf.dim(2);
    for (std::size_t i = 0; i < tasks.size(); ++i)
      for (std::int64_t r = 0; r < sets; ++r) {
        const Eigen::VectorXd expected = mixed_emulation(p64, tasks[i], values[i].row(r).transpose());
        for (Eigen::Index t = 0; t < expected.size(); ++t) {
          const double g = tf.data[std::size_t((std::int64_t(i) * sets + r) * nt + t)], x = expected(t);
          RC_ASSERT(std::abs(g - x) <= std::ldexp(std::abs(x), -24) + 1e-9 * std::max(1.0, std::abs(x)));
        }
      }
    // A budget of about one sequence: one chunk per value set and task, the same bits.
    options.memory_budget_bytes = 1;
    engine::Session chunked(model, options);
    RC_ASSERT(same_bits(chunked.evaluate_joint_density(b.tensors), tf));
    RC_ASSERT_THROWS_AS(session.sample_sequence(b.tensors, 2, 1), InputError);
    RC_ASSERT_THROWS_AS(session.forced_ar_density(b.tensors), InputError);
  }));
  // Printed, not asserted: on models this small the float32 error is a maximum over a handful of
  // targets (see tolerance::kEngineFactor); on the fixtures the mixed path is ~1/15 of it
  // (gpu_parity_tests).
  tolerance::RatioLog::global().print(reported);
}

TEST(EngineProperties, SamplesFollowTheReferenceSamplerStepByStep) {
  ARTABPFN_REQUIRE_GPU();
  long boundary_flips = 0, values = 0;
  EXPECT_TRUE(rc::check("engine samples vs reference sampler", [&] {
    const SmallCase c = *engine_case();
    const int tasks = *rc::gen::inRange(1, 3), samples = *rc::gen::inRange(1, 6);
    const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
    const Batch b = random_batch(c, tasks, 1);
    const engine::DeviceModel model(b.weights);
    const auto mode = *rc::gen::element(engine::AttentionMode::kFused, engine::AttentionMode::kSplit,
                                        engine::AttentionMode::kReencode);
    engine::Session session(model, quiet(mode));
    const HostTensor<float> got = session.sample_sequence(b.tensors, samples, seed);
    const auto p = reference::ModelParams<double>::from_weights(b.weights);
    const auto task_inputs = reference::split_tasks(b.tensors);
    for (int i = 0; i < tasks; ++i) {
      const auto& task = task_inputs[std::size_t(i)];
      const auto cache = reference::prefill(p, task);
      const auto at = [&](Eigen::Index s, Eigen::Index t) {
        return double(got.data[std::size_t((std::int64_t(i) * samples + s) * got.dim(2) + t)]);
      };
      // Follow the engine's own values; at each step redraw with the reference sampler.
      reference::ar_decode<double>(
          p, cache, task, 0, samples, [&](Eigen::Index t, Eigen::Index s, const auto&) { return at(s, t); },
          [&](Eigen::Index t, Eigen::Index s, const reference::Mixture<double>& m, double value) {
            const auto draw = random_stream::draw_for(seed, std::uint32_t(i), std::uint32_t(s), std::uint32_t(t));
            const double expected = reference::sample_mixture(m, draw);
            ++values;
            const double scale = std::max(1.0, std::abs(expected));
            if (std::abs(value - expected) <= 1e-4 * scale) return;
            // Otherwise the component pick must sit within rounding of a cumulative boundary.
            double cumulative = 0, nearest = 1;
            for (Eigen::Index k = 0; k < m.log_weight.size(); ++k) {
              cumulative += std::exp(m.log_weight(k));
              nearest = std::min(nearest, std::abs(draw.component_uniform - cumulative));
            }
            RC_LOG() << "t " << t << " s " << s << ": engine " << value << ", reference " << expected
                     << ", uniform distance to boundary " << nearest << "\n";
            RC_ASSERT(nearest <= 1e-4);
            ++boundary_flips;
          });
    }
  }));
  std::printf("sampled values checked: %ld, component picks differing at a boundary: %ld\n", values, boundary_flips);
}

TEST(EngineProperties, SamplingIsBitwiseReproducibleAcrossBatchChunksAndThreads) {
  ARTABPFN_REQUIRE_GPU();
  ModelConfig config;
  config.d_model = 30;
  config.n_heads = 3;
  config.n_layers = 2;
  config.d_ff = 20;
  config.buffer_size = 4;
  config.num_components = 5;
  const Batch b = random_batch(SmallCase{config, 99, 17, 9, 2}, 3, 1);
  const engine::DeviceModel model(b.weights);
  // In every precision of the decode jobs (the tensor-core products are batch invariant too).
  for (const auto precision : {engine::Precision::kFloat32, engine::Precision::kTf32, engine::Precision::kTf32x3}) {
    SCOPED_TRACE(engine::precision_name(precision));
    engine::SessionOptions options = quiet(engine::AttentionMode::kFused);
    options.precision = precision;
    engine::Session a(model, options);
    const HostTensor<float> reference_run = a.sample_sequence(b.tensors, 40, 5);
    EXPECT_TRUE(same_bits(a.sample_sequence(b.tensors, 40, 5), reference_run)) << "same inputs twice";
    // Fewer samples: the first 25 of each task are the same values.
    const HostTensor<float> fewer = a.sample_sequence(b.tensors, 25, 5);
    for (int t = 0; t < 3; ++t)
      for (int s = 0; s < 25; ++s)
        for (int j = 0; j < 9; ++j)
          EXPECT_EQ(std::memcmp(&fewer.data[std::size_t((t * 25 + s) * 9 + j)],
                                &reference_run.data[std::size_t((t * 40 + s) * 9 + j)], sizeof(float)),
                    0);
    // A tiny memory budget forces many chunks.
    std::vector<std::string> notices;
    engine::SessionOptions chunked_options = options;
    chunked_options.memory_budget_bytes = 200000;
    chunked_options.notices = [&](const std::string& m) { notices.push_back(m); };
    engine::Session chunked(model, chunked_options);
    EXPECT_TRUE(same_bits(chunked.sample_sequence(b.tensors, 40, 5), reference_run)) << "chunked";
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find("chunks"), std::string::npos) << notices[0];
    // Two threads on one model, each with its own context.
    std::vector<HostTensor<float>> results(2);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i)
      threads.emplace_back([&, i] {
        engine::Session own(model, options);
        results[std::size_t(i)] = own.sample_sequence(b.tensors, 40, 5);
      });
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_TRUE(same_bits(r, reference_run)) << "threads";
  }
}

// SessionOptions::fuse_epilogues (the default: each LayerNorm and the decode step's K/V append in
// the launch of the product before it) changes no bit of samples or densities against separate
// launches, with graphs and without.
TEST(EngineProperties, FusedEpiloguesChangeNoBit) {
  ARTABPFN_REQUIRE_GPU();
  EXPECT_TRUE(rc::check("fuse_epilogues on == off, bitwise", [] {
    const SmallCase c = *engine_case();
    const Batch b = random_batch(c, *rc::gen::inRange(1, 4), *rc::gen::inRange(1, 3));
    const engine::DeviceModel model(b.weights);
    const auto mode = *rc::gen::element(engine::AttentionMode::kFused, engine::AttentionMode::kSplit);
    const bool graphs = *rc::gen::arbitrary<bool>();
    const auto quiet_with = [](std::string) {};
    engine::Session fused(model, {mode, 0, quiet_with, graphs, true});
    engine::Session plain(model, {mode, 0, quiet_with, graphs, false});
    const int samples = *rc::gen::inRange(1, 40);
    RC_ASSERT(same_bits(fused.sample_sequence(b.tensors, samples, 3), plain.sample_sequence(b.tensors, samples, 3)));
    RC_ASSERT(same_bits(fused.evaluate_joint_density(b.tensors), plain.evaluate_joint_density(b.tensors)));
  }));
}

// SessionOptions::progress: counts AR steps over every chunk, ends at (total, total), never goes
// back, and changes no result.
TEST(EngineProperties, ProgressCountsStepsOverChunksAndChangesNoResult) {
  ARTABPFN_REQUIRE_GPU();
  ModelConfig config;
  config.d_model = 12;
  config.n_heads = 3;
  config.n_layers = 1;
  config.d_ff = 8;
  config.buffer_size = 3;
  config.num_components = 2;
  const Batch b = random_batch(SmallCase{config, 5, 6, 7, 1}, 2, 1);
  const engine::DeviceModel model(b.weights);
  for (const auto mode : {engine::AttentionMode::kFused, engine::AttentionMode::kReencode}) {
    SCOPED_TRACE(engine::attention_mode_name(mode));
    // 30 kB: the fused path's ~2.4 kB per sequence gives chunks of 12 of the 60 sequences, the
    // reencode baseline's ~18 kB chunks of 1.
    engine::Session plain(model, quiet(mode, 30000));
    std::vector<std::pair<std::int64_t, std::int64_t>> calls;
    engine::SessionOptions options = quiet(mode, 30000);
    options.progress = [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); };
    engine::Session reporting(model, options);
    EXPECT_TRUE(same_bits(reporting.sample_sequence(b.tensors, 30, 9), plain.sample_sequence(b.tensors, 30, 9)));
    ASSERT_FALSE(calls.empty());
    const std::int64_t total = calls.back().second;
    EXPECT_EQ(calls.back().first, total);
    EXPECT_EQ(total % 7, 0) << "chunks x Nt steps";
    EXPECT_GT(total, 7) << "the budget should force more than one chunk";
    for (std::size_t i = 1; i < calls.size(); ++i) {
      EXPECT_GT(calls[i].first, calls[i - 1].first);
      EXPECT_EQ(calls[i].second, total);
    }
  }
}

}  // namespace
}  // namespace artabpfn::test_support
