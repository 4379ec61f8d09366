// The CUDA engine against the double reference on random small models (random D, H with head
// dims that are not powers of two, layers, K, L) and random batches of tasks (Nc from 0, Nt
// above buffer_size, several tasks of different sizes per call):
//   - teacher-forcing densities within tolerance::kEngineFactor x the error of the plain float32
//     reference (reference<float>, in three summation orders) plus tolerance::kEngineFloor, for
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
//   - the cluster decode step (SessionOptions::decode_layers) is bitwise the per-layer step.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "artabpfn/error.hpp"
#include "engine/session.hpp"
#include "kernels/decode.hpp"
#include "kernels/device_buffer.hpp"
#include "reference/reference.hpp"
#include "reference/task_batch.hpp"
#include "tests/support/gpu_available.hpp"
#include "tests/support/random_model.hpp"
#include "tolerance/bitwise.hpp"
#include "tolerance/constants.hpp"
#include "tolerance/ratio_log.hpp"

namespace artabpfn::test_support {
namespace {

using reference::InputMatrix;

// The rule on random small models: tolerance::kEngineFactor x the plain float32 error (three
// summation orders) + tolerance::kEngineFloor (tolerance/constants.hpp says why); the models have
// D >= 8 (engine_case). At the paper's size the fixture parity test holds the engine to
// tolerance::kEngineFixtureFactor.
tolerance::Bound engine_bound(double plain_error) {
  return {tolerance::kEngineFactor, plain_error, tolerance::kEngineFloor};
}

struct Batch {
  ModelWeights weights;
  TaskTensors tensors;
};

// T tasks padded to the largest sizes; lengths per task; R value sets of y per task.
Batch random_batch(const SmallCase& c, int tasks, int sets) {
  std::mt19937_64 engine(c.seed);
  Batch b{random_weights(c.config, c.seed), {}};
  const std::int64_t nc_max = c.nc, nt_max = c.nt, f = c.features;
  TaskTensors& t = b.tensors;
  t.x_context = HostTensor<double>({tasks, nc_max, f});
  t.y_context = HostTensor<double>({tasks, nc_max});
  t.x_target = HostTensor<double>({tasks, nt_max, f});
  t.y_target = HostTensor<double>({tasks, sets, nt_max});
  std::normal_distribution<double> n01;
  for (auto* tensor : {&t.x_context, &t.y_context, &t.x_target, &*t.y_target})
    for (double& v : tensor->data) v = n01(engine);
  for (int i = 0; i < tasks; ++i) {
    t.context_len.push_back(i == 0 ? nc_max : std::uniform_int_distribution<std::int64_t>(0, nc_max)(engine));
    t.target_len.push_back(i == 0 ? nt_max : std::uniform_int_distribution<std::int64_t>(1, nt_max)(engine));
  }
  t = validate_task_tensors(std::move(t), "random batch");
  return b;
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
// float32 reference in three summation orders (one order alone can be luckily exact).
template <class Reference>
Errors density_errors(const HostTensor<float>& got, const Batch& b, Reference&& job) {
  const auto tasks = reference::split_tasks(b.tensors);
  const auto values = reference::split_target_values(b.tensors);
  const auto p64 = reference::ModelParams<double>::from_weights(b.weights);
  const auto p32 = reference::ModelParams<float>::from_weights(b.weights);
  Errors e;
  const std::int64_t sets = got.dim(1), nt = got.dim(2);
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const auto exact = job(p64, tasks[i], values[i]);
    const auto plain = job(p32, tasks[i], values[i]);
    const auto plain_reversed = job(p32, reordered_context(tasks[i], true), values[i]);
    const auto plain_rotated = job(p32, reordered_context(tasks[i], false), values[i]);
    for (std::int64_t r = 0; r < sets; ++r)
      for (Eigen::Index t = 0; t < exact.cols(); ++t) {
        const double g = got.data[std::size_t((std::int64_t(i) * sets + r) * nt + t)];
        e.engine = std::max(e.engine, std::isfinite(g) ? std::abs(g - exact(r, t)) : INFINITY);
        e.largest = std::max(e.largest, std::abs(exact(r, t)));
        e.baseline = std::max({e.baseline, std::abs(double(plain(r, t)) - exact(r, t)),
                               std::abs(double(plain_reversed(r, t)) - exact(r, t)),
                               std::abs(double(plain_rotated(r, t)) - exact(r, t))});
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

// Bitwise equality (NaN padding compares equal to itself).
bool same_bits(const HostTensor<float>& a, const HostTensor<float>& b) { return tolerance::bitwise_equal(a.data, b.data); }

// Models of width 8 and more (head dims 3 to 7 and 8 to 21 included). Below that the float32
// error is a maximum over a handful of badly conditioned values and too noisy a yardstick: a
// D = 3, H = 1 model reached 14x against it (H200, with the decode path of the time).
rc::Gen<SmallCase> engine_case() {
  return rc::gen::suchThat(small_case(), [](const SmallCase& c) { return c.config.d_model >= 8; });
}

engine::SessionOptions quiet(engine::AttentionMode mode, std::size_t budget = 0) {
  return {mode, budget, [](const std::string&) {}};
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
  engine::Session a(model, quiet(engine::AttentionMode::kFused));
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
  engine::Session chunked(
      model, {engine::AttentionMode::kFused, 200000, [&](const std::string& m) { notices.push_back(m); }});
  EXPECT_TRUE(same_bits(chunked.sample_sequence(b.tensors, 40, 5), reference_run)) << "chunked";
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_NE(notices[0].find("chunks"), std::string::npos) << notices[0];
  // Two threads on one model, each with its own context.
  std::vector<HostTensor<float>> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      engine::Session own(model, quiet(engine::AttentionMode::kFused));
      results[std::size_t(i)] = own.sample_sequence(b.tensors, 40, 5);
    });
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_TRUE(same_bits(r, reference_run)) << "threads";
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

// The shape the cluster step is compiled for (the paper's D, heads and d_ff), other sizes free.
ModelConfig cluster_shape(int layers, int buffer_size, int components) {
  ModelConfig config;
  config.d_model = 128;
  config.n_heads = 4;
  config.d_ff = 256;
  config.n_layers = layers;
  config.buffer_size = buffer_size;
  config.num_components = components;
  return config;
}

// SessionOptions::decode_layers: the cluster step (a decode step's layers in one launch of
// kernels/decode.hpp where the model has the paper's shape; kClusters, and the default kAuto)
// changes no bit of samples or forced AR densities against the per-layer launches: models of that
// shape with random weights, 1-3 layers, contexts of 0 to 300 rows (over 256: the kernel's further
// context passes), 1-300 samples (partial clusters and blocks), one to three tasks (several tasks
// leave blocks whose samples mix tasks: the per-layer fallback, also checked). Counts the cases
// whose sampling ran the cluster step (decode_plan) and fails if none did.
TEST(DecodeProperties, ClusterStepChangesNoBit) {
  ARTABPFN_REQUIRE_GPU();
  if (!kernels::cluster_decode_available()) {
    int device = 0, major = 0;
    ASSERT_EQ(cudaGetDevice(&device), cudaSuccess);
    ASSERT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device), cudaSuccess);
    ASSERT_LT(major, 9) << "an sm_90 device must run the cluster step";
    GTEST_SKIP() << "the cluster step needs thread block clusters (sm_90)";
  }
  int clustered = 0;
  EXPECT_TRUE(rc::check("cluster step == per-layer launches, bitwise", [&] {
    const ModelConfig config =
        cluster_shape(*rc::gen::inRange(1, 4), *rc::gen::inRange(1, 9), *rc::gen::inRange(2, 6));
    const SmallCase c{config, *rc::gen::arbitrary<std::uint64_t>(), *rc::gen::inRange(0, 301), *rc::gen::inRange(1, 7),
                      *rc::gen::inRange(1, 4)};
    const int tasks = *rc::gen::inRange(1, 4);
    const Batch b = random_batch(c, tasks, 1);
    const engine::DeviceModel model(b.weights);
    const bool graphs = *rc::gen::arbitrary<bool>();
    engine::SessionOptions on = quiet(engine::AttentionMode::kFused), off = on;
    on.decode_graphs = off.decode_graphs = graphs;
    on.decode_layers = *rc::gen::element(engine::DecodeLayers::kClusters, engine::DecodeLayers::kAuto);
    off.decode_layers = engine::DecodeLayers::kPerLayer;
    engine::Session cluster(model, on), layered(model, off);
    const int samples = *rc::gen::inRange(1, 301);
    clustered += cluster.decode_plan(b.tensors, samples).clustered > 0 ? 1 : 0;
    RC_ASSERT(same_bits(cluster.sample_sequence(b.tensors, samples, 11), layered.sample_sequence(b.tensors, samples, 11)));
    RC_ASSERT(same_bits(cluster.forced_ar_density(b.tensors), layered.forced_ar_density(b.tensors)));
  }));
  EXPECT_GT(clustered, 0) << "no case ran the cluster step";
  std::printf("[cluster step] %d cases ran it (sampling)\n", clustered);
}

// The cluster step (kClusters) on four fixed cases, bitwise the per-layer launches: a context over
// 256 rows (the kernel's further pass) with a partial last cluster, no context with both attention
// halves of every block busy, one sample, and the 18-sample tile (its ninth warp and ff.2's input in
// two halves) with a further pass and a partial last cluster. The sanitize tests run these
// (tests/sanitize).
TEST(DecodeProperties, ClusterStepFixedCases) {
  ARTABPFN_REQUIRE_GPU();
  if (!kernels::cluster_decode_available()) GTEST_SKIP() << "the cluster step needs thread block clusters (sm_90)";
  const ModelConfig config = cluster_shape(2, 3, 3);
  struct Case {
    int nc, samples;
  };
  // 130 samples: 9 a cluster on an H100 (15 resident clusters), so both attention halves are busy;
  // 257: 18 a cluster, the last one 5.
  for (const Case k : {Case{300, 37}, Case{0, 130}, Case{17, 1}, Case{300, 257}}) {
    SCOPED_TRACE(::testing::Message() << "Nc " << k.nc << ", " << k.samples << " samples");
    const Batch b = random_batch(SmallCase{config, 41, k.nc, 3, 2}, 1, 1);
    const engine::DeviceModel model(b.weights);
    engine::SessionOptions on = quiet(engine::AttentionMode::kFused), off = on;
    on.decode_layers = engine::DecodeLayers::kClusters;
    off.decode_layers = engine::DecodeLayers::kPerLayer;
    engine::Session cluster(model, on), layered(model, off);
    EXPECT_TRUE(same_bits(cluster.sample_sequence(b.tensors, k.samples, 5), layered.sample_sequence(b.tensors, k.samples, 5)));
    EXPECT_TRUE(same_bits(cluster.forced_ar_density(b.tensors), layered.forced_ar_density(b.tensors)));
  }
}

// kAuto up to one cluster's samples (18) over one wave of clusters: the wave's samples on the
// cluster step and the rest on the per-layer launches on a second stream at the same time, bitwise
// the per-layer launches alone. One task (samples, and forced AR densities over as many value
// sets), then two tasks whose second one's samples run partly beside the wave (the per-layer part's
// task and buffer offsets); graph replay and eager launches. Last, two tasks that only 16-sample
// clusters keep apart.
TEST(DecodeProperties, ClusterStepWithLayeredBesideChangesNoBit) {
  ARTABPFN_REQUIRE_GPU();
  if (!kernels::cluster_decode_available()) GTEST_SKIP() << "the cluster step needs thread block clusters (sm_90)";
  const std::int64_t one_wave = std::int64_t(kernels::kClusterDecodeMaxSamples) * kernels::cluster_decode_resident_clusters();
  const ModelConfig config = cluster_shape(2, 3, 3);
  struct Case {
    int tasks;
    std::int64_t per_task;
    bool graphs;
  };
  // Two tasks of half a wave plus 9: the wave (clusters of 18, attention halves of 9) ends on a
  // block boundary inside the second task.
  const std::int64_t beside = kernels::kClusterDecodeMaxSamples;
  for (const Case k : {Case{1, one_wave + 9, true}, Case{1, one_wave + beside, false}, Case{2, one_wave / 2 + 9, true}}) {
    SCOPED_TRACE(::testing::Message() << k.tasks << " tasks of " << k.per_task << (k.graphs ? ", graphs" : ", eager"));
    const Batch b = random_batch(SmallCase{config, 43, 40, 3, 2}, k.tasks, static_cast<int>(k.per_task));
    const engine::DeviceModel model(b.weights);
    engine::SessionOptions on = quiet(engine::AttentionMode::kFused), off = on;
    on.decode_graphs = off.decode_graphs = k.graphs;
    off.decode_layers = engine::DecodeLayers::kPerLayer;
    engine::Session automatic(model, on), layered(model, off);
    const engine::DecodePlan plan = automatic.decode_plan(b.tensors, k.per_task);
    EXPECT_EQ(plan.clustered, one_wave);
    EXPECT_EQ(layered.decode_plan(b.tensors, k.per_task).clustered, 0);
    EXPECT_THROW(automatic.decode_plan(b.tensors, 0), InputError);
    // Over one wave plus 18 samples kAuto leaves every sample to the per-layer launches.
    EXPECT_EQ(automatic.decode_plan(b.tensors, (one_wave + beside + 1) / k.tasks + 1).clustered, 0);
    EXPECT_TRUE(same_bits(automatic.sample_sequence(b.tensors, k.per_task, 5), layered.sample_sequence(b.tensors, k.per_task, 5)));
    EXPECT_TRUE(same_bits(automatic.forced_ar_density(b.tensors), layered.forced_ar_density(b.tensors)));
  }
  // Two tasks of 8 (R + 1) samples (R resident clusters): where 18-sample clusters would mix the
  // tasks in a block (an H100: R 15, the boundary 128 inside a half of 9), kAuto runs a wave of
  // 16-sample clusters (240) with the rest beside it, not everything per layer.
  const std::int64_t resident = kernels::cluster_decode_resident_clusters(), per_task = 8 * (resident + 1);
  const Batch b = random_batch(SmallCase{config, 47, 40, 3, 2}, 2, static_cast<int>(per_task));
  const engine::DeviceModel model(b.weights);
  engine::SessionOptions on = quiet(engine::AttentionMode::kFused), off = on;
  off.decode_layers = engine::DecodeLayers::kPerLayer;
  engine::Session automatic(model, on), layered(model, off);
  const engine::DecodePlan plan = automatic.decode_plan(b.tensors, per_task);
  EXPECT_GE(plan.clustered, kernels::kClusterDecodeHalvesOf8 * resident);
  EXPECT_TRUE(same_bits(automatic.sample_sequence(b.tensors, per_task, 5), layered.sample_sequence(b.tensors, per_task, 5)));
  EXPECT_TRUE(same_bits(automatic.forced_ar_density(b.tensors), layered.forced_ar_density(b.tensors)));
}

// The cluster step's host checks: the shape it serves, the batches whose blocks share a task, and
// the direct calls it refuses with a message before launching anything (the contract of
// kernels/decode.hpp). Host logic only: runs without a GPU too.
TEST(DecodeProperties, ClusterStepRefusesWhatItDoesNotServe) {
  EXPECT_TRUE(kernels::cluster_decode_fits(128, 4, 256, 12));
  EXPECT_FALSE(kernels::cluster_decode_fits(64, 4, 256, 12));
  EXPECT_FALSE(kernels::cluster_decode_fits(128, 8, 256, 12));
  EXPECT_FALSE(kernels::cluster_decode_fits(128, 4, 512, 12));
  EXPECT_FALSE(kernels::cluster_decode_fits(128, 4, 256, kernels::kClusterDecodeMaxLayers + 1));
  EXPECT_TRUE(kernels::cluster_decode_tasks_fit(std::vector<std::int32_t>(64, 3)));
  std::vector<std::int32_t> alternating(64);
  for (std::size_t i = 0; i < alternating.size(); ++i) alternating[i] = static_cast<std::int32_t>(i % 2);
  EXPECT_FALSE(kernels::cluster_decode_tasks_fit(alternating));

  alignas(16) static float rows[8];
  static const int step = 0;
  static const std::int64_t offset = 0;
  static const std::int32_t len = 0, task = 0;
  const std::vector<std::int32_t> one_task(1, 0);
  kernels::ClusterDecodeArgs args;
  args.n_layers = 1;
  args.x = rows;
  args.batch = 1;
  args.context_offset = &offset;
  args.context_len = &len;
  args.task_of_sample = &task;
  args.capacity = 1;
  args.step = &step;
  args.d_model = 128;
  args.n_heads = 4;
  args.d_ff = 256;
  const auto refuses = [](kernels::ClusterDecodeArgs a, std::span<const std::int32_t> tasks, const char* what) {
    try {
      kernels::cluster_decode_layers(a, tasks, nullptr);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("cluster_decode_layers"), std::string::npos) << e.what();
    }
  };
  kernels::ClusterDecodeArgs bad = args;
  bad.n_layers = 0;
  refuses(bad, one_task, "no layers");
  bad.n_layers = kernels::kClusterDecodeMaxLayers + 1;
  refuses(bad, one_task, "too many layers");
  bad = args;
  bad.d_model = 64;
  refuses(bad, one_task, "another d_model");
  bad = args;
  bad.n_heads = 8;
  refuses(bad, one_task, "another head count");
  bad = args;
  bad.d_ff = 512;
  refuses(bad, one_task, "another d_ff");
  bad = args;
  bad.d_model = bad.n_heads = bad.d_ff = 0;
  refuses(bad, one_task, "no shape given");
  bad = args;
  bad.step = nullptr;
  refuses(bad, one_task, "no step");
  bad = args;
  bad.capacity = 0;
  refuses(bad, one_task, "capacity 0");
  bad = args;
  bad.x = rows + 1;  // 4-byte aligned only
  refuses(bad, one_task, "unaligned rows");
  refuses(args, {}, "a host copy of another length");
  bad = args;
  bad.batch = 64;  // two tasks alternating: every block's half of 2 or more samples mixes them
  refuses(bad, alternating, "blocks whose samples mix tasks");
  bad.batch = 0;  // nothing to do: no launch, no error
  EXPECT_NO_THROW(kernels::cluster_decode_layers(bad, {}, nullptr));
}

// The same contract on a GPU that runs the cluster step, where the samples a cluster takes follow
// the device's resident clusters: a direct call whose blocks would mix tasks throws before
// launching, for batches from one to three waves (cluster_decode_tasks_fit says why), and one whose
// blocks do not mix passes the check.
TEST(DecodeProperties, ClusterStepRefusesMixedTasksOnTheDevice) {
  ARTABPFN_REQUIRE_GPU();
  if (!kernels::cluster_decode_available()) GTEST_SKIP() << "the cluster step needs thread block clusters (sm_90)";
  const std::int64_t resident = kernels::cluster_decode_resident_clusters();
  const ModelConfig config = cluster_shape(1, 3, 3);
  for (const std::int64_t batch : {resident * 2, resident * kernels::kClusterDecodeMaxSamples, 3 * resident * 18}) {
    SCOPED_TRACE(::testing::Message() << "B " << batch);
    std::vector<std::int32_t> alternating(static_cast<std::size_t>(batch));
    for (std::size_t i = 0; i < alternating.size(); ++i) alternating[i] = static_cast<std::int32_t>(i % 2);
    ASSERT_FALSE(kernels::cluster_decode_tasks_fit(alternating));
    const Batch b = random_batch(SmallCase{config, 53, 5, 3, 2}, 2, static_cast<int>(batch / 2));
    const engine::DeviceModel model(b.weights);
    kernels::DeviceBuffer<float> x(static_cast<std::size_t>(2 * batch * config.d_model));
    kernels::DeviceBuffer<float> k(static_cast<std::size_t>(batch * config.d_model * 4)), v(k.size());
    kernels::DeviceBuffer<std::int32_t> tasks(alternating), len(std::vector<std::int32_t>{5, 5});
    kernels::DeviceBuffer<std::int64_t> offset(std::vector<std::int64_t>{0, 5 * config.d_model});
    kernels::DeviceBuffer<int> step(std::vector<int>{1});
    kernels::ClusterDecodeArgs args;
    args.n_layers = 1;
    const engine::LayerWeights& L = model.layer(0);
    args.layers[0] = {L.feature,      L.qkv,          L.out,          L.ff_in,        L.ff_in_bias,
                      L.ff_out,       L.ff_out_bias,  L.norm1_weight, L.norm1_bias,   L.norm2_weight,
                      L.norm2_bias,   L.norm3_weight, L.norm3_bias,   k.data(),       v.data(),
                      k.data(),       v.data()};
    args.x = x.data();
    args.batch = batch;
    args.context_offset = offset.data();
    args.context_len = len.data();
    args.task_of_sample = tasks.data();
    args.capacity = 2;
    args.step = step.data();
    args.d_model = config.d_model;
    args.n_heads = config.n_heads;
    args.d_ff = config.d_ff;
    ASSERT_TRUE(kernels::cluster_decode_aligned(args));
    EXPECT_THROW(kernels::cluster_decode_layers(args, alternating, nullptr), std::invalid_argument);
    const std::vector<std::int32_t> one_task(static_cast<std::size_t>(batch), 0);
    ASSERT_TRUE(kernels::cluster_decode_tasks_fit(one_task));
    EXPECT_NO_THROW(kernels::cluster_decode_layers(args, one_task, nullptr));
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  }
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
