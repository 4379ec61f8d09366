// The cluster decode step (kernels/decode.hpp, SessionOptions::decode_layers) against the
// per-layer launches, bitwise, on random models of the shape it is compiled for, fixed cases and
// a wave with per-layer launches beside it; and the calls it refuses.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "artabpfn/error.hpp"
#include "engine/session.hpp"
#include "kernels/decode.hpp"
#include "kernels/device_buffer.hpp"
#include "properties/gpu_engine/engine_cases.hpp"
#include "tests/support/gpu_available.hpp"

namespace artabpfn::test_support {
namespace {

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

}  // namespace
}  // namespace artabpfn::test_support
