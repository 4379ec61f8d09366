// The engine's host-side planning, without a GPU: the cluster step's rule (engine/decode_plan.hpp)
// on the device facts it is given, the memory planner's chunks and notice
// (engine/memory_plan.hpp, with an explicit budget, so no device is asked), and the mapping of a
// call's sequences to tasks, values and the padded result (engine/sequences.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/decode_plan.hpp"
#include "engine/memory_plan.hpp"
#include "engine/sequences.hpp"

namespace {

using namespace artabpfn;
using engine::DecodeLayers;

constexpr std::int64_t kResident = 15;  // clusters an H100 or H200 holds at once

const auto all_fit = [](std::int64_t) { return true; };

TEST(EngineTests, ClusterStepServesTheFusedPaperShapeOnly) {
  engine::SessionOptions options;
  const ModelConfig paper = paper_config();
  EXPECT_TRUE(engine::cluster_step_serves(options, paper));
  options.decode_layers = DecodeLayers::kClusters;
  EXPECT_TRUE(engine::cluster_step_serves(options, paper));
  options.decode_layers = DecodeLayers::kPerLayer;
  EXPECT_FALSE(engine::cluster_step_serves(options, paper));
  options.decode_layers = DecodeLayers::kAuto;
  for (const auto mode : {engine::AttentionMode::kSplit, engine::AttentionMode::kReencode}) {
    options.attention = mode;
    EXPECT_FALSE(engine::cluster_step_serves(options, paper)) << engine::attention_mode_name(mode);
  }
  options.attention = engine::AttentionMode::kFused;
  ModelConfig wider = paper;
  wider.d_model = 256;
  EXPECT_FALSE(engine::cluster_step_serves(options, wider));
}

TEST(EngineTests, ClustersTakeEverySampleOrNone) {
  for (const std::int64_t samples : {1, 31, 270, 5000})
    EXPECT_EQ(engine::clustered_samples(DecodeLayers::kClusters, samples, kResident, all_fit), samples);
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kClusters, 40, kResident, [](std::int64_t) { return false; }), 0);
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kPerLayer, 100, kResident, all_fit), 0);
}

// kAuto: from 32 samples up to one wave of 18-sample clusters (270 with 15 resident), with up to
// 18 samples beside the wave; over that, none.
TEST(EngineTests, AutoTakesOneWaveWithAFewSamplesBeside) {
  const auto automatic = [](std::int64_t samples) {
    return engine::clustered_samples(DecodeLayers::kAuto, samples, kResident, all_fit);
  };
  EXPECT_EQ(automatic(1), 0);
  EXPECT_EQ(automatic(31), 0);
  EXPECT_EQ(automatic(32), 32);
  EXPECT_EQ(automatic(270), 270);
  EXPECT_EQ(automatic(271), 270);
  EXPECT_EQ(automatic(288), 270);
  EXPECT_EQ(automatic(289), 0);
  // One resident cluster: a wave is 18 samples, so 36 are the most kAuto gives it.
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kAuto, 36, 1, all_fit), 18);
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kAuto, 37, 1, all_fit), 0);
}

// Where the 18-sample wave's blocks would mix tasks, kAuto falls back to a wave of 16-sample
// clusters (tasks of 128 samples at B 256: 240 in the wave, 16 beside), and to none if that mixes
// tasks too.
TEST(EngineTests, AutoFallsBackToSixteenSampleClusters) {
  std::vector<std::int64_t> asked;
  const auto only_240 = [&](std::int64_t n) {
    asked.push_back(n);
    return n == 240;
  };
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kAuto, 256, kResident, only_240), 240);
  EXPECT_EQ(asked, (std::vector<std::int64_t>{256, 240}));
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kAuto, 256, kResident, [](std::int64_t) { return false; }), 0);
  // 260 samples: the 16-sample wave would leave 20 beside it, more than one cluster's worth.
  EXPECT_EQ(engine::clustered_samples(DecodeLayers::kAuto, 260, kResident, only_240), 0);
}

engine::SessionOptions budget_of(std::size_t bytes, std::vector<std::string>& notices) {
  engine::SessionOptions options;
  options.memory_budget_bytes = bytes;
  options.notices = [&](const std::string& m) { notices.push_back(m); };
  return options;
}

TEST(EngineTests, ChunksFitTheBudgetAndSaySo) {
  std::vector<std::string> notices;
  // 100 floats (400 bytes) a sequence, 4000 bytes: 10 sequences a chunk.
  EXPECT_EQ(engine::plan_chunk(budget_of(4000, notices), "job", 10, 100), 10);
  EXPECT_TRUE(notices.empty());
  EXPECT_EQ(engine::plan_chunk(budget_of(4000, notices), "job", 25, 100), 10);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].rfind("engine: job: 25 sequences need", 0), 0u) << notices[0];
  EXPECT_NE(notices[0].find("running 3 chunks of up to 10"), std::string::npos) << notices[0];
  // A sequence over the budget still runs, one at a time.
  EXPECT_EQ(engine::plan_chunk(budget_of(100, notices), "job", 3, 100), 1);
  // Nothing to run: one chunk size that runs nothing, no notice, no division by zero.
  notices.clear();
  EXPECT_EQ(engine::plan_chunk(budget_of(4000, notices), "job", 0, 100), 1);
  EXPECT_TRUE(notices.empty());
}

TEST(EngineTests, FloatsPerSequenceGrowWithTheirSizes) {
  const ModelConfig c = paper_config();
  EXPECT_LT(engine::teacher_forcing_floats_per_sequence(c, 16), engine::teacher_forcing_floats_per_sequence(c, 32));
  // The decode path keeps a buffer row of K/V per layer and target even at Nt 0.
  EXPECT_EQ(engine::decode_floats_per_sequence(c, 0), engine::decode_floats_per_sequence(c, 1) - 2);
  EXPECT_EQ(engine::decode_floats_per_sequence(c, 2) - engine::decode_floats_per_sequence(c, 1),
            2 * c.n_layers * c.d_model + 2);
  EXPECT_EQ(engine::reencode_floats_per_sequence(c, 0, 16), engine::teacher_forcing_floats_per_sequence(c, 16));
  EXPECT_GT(engine::reencode_floats_per_sequence(c, 64, 16), engine::reencode_floats_per_sequence(c, 32, 16));
}

// Two tasks of 1 feature, Nt_max 3 (target counts 3 and 2), two value sets each: y = 10 task + set + j / 10.
TaskTensors two_tasks() {
  TaskTensors t;
  t.x_context = HostTensor<double>({2, 2, 1}, {1, 2, 3, 4});
  t.y_context = HostTensor<double>({2, 2}, {5, 6, 7, 8});
  t.x_target = HostTensor<double>({2, 3, 1}, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6});
  t.y_target = HostTensor<double>({2, 2, 3});
  for (int task = 0; task < 2; ++task)
    for (int set = 0; set < 2; ++set)
      for (int j = 0; j < 3; ++j) t.y_target->data[std::size_t((task * 2 + set) * 3 + j)] = 10 * task + set + j / 10.0;
  t.context_len = {2, 1};
  t.target_len = {3, 2};
  return t;
}

TEST(EngineTests, SequencesBelongToTasksInOrder) {
  EXPECT_EQ(engine::sequence_tasks(0, 5, 2), (std::vector<std::int32_t>{0, 0, 1, 1, 2}));
  EXPECT_EQ(engine::sequence_tasks(3, 3, 2), (std::vector<std::int32_t>{1, 2, 2}));
}

TEST(EngineTests, GivenValuesStopAtEachTasksTargetCount) {
  const TaskTensors t = two_tasks();
  // Sequences 1..3: task 0 set 1, task 1 sets 0 and 1 (2 targets: the third is zero).
  const std::vector<float> y = engine::given_values(t, 1, 3, 3);
  EXPECT_EQ(y, (std::vector<float>{1.0f, 1.1f, 1.2f, 10.0f, 10.1f, 0.0f, 11.0f, 11.1f, 0.0f}));
  const std::vector<float> by_step = engine::given_values_by_step(t, 1, 3, 3);
  EXPECT_EQ(by_step, (std::vector<float>{1.0f, 10.0f, 11.0f, 1.1f, 10.1f, 11.1f, 1.2f, 0.0f, 0.0f}));
}

TEST(EngineTests, ResultsLandInThePaddedLayout) {
  const TaskTensors t = two_tasks();
  HostTensor<float> steps = engine::padded_result(2, 2, 3);
  ASSERT_EQ(steps.shape, (Shape{2, 2, 3}));
  for (const float v : steps.data) EXPECT_TRUE(std::isnan(v));
  HostTensor<float> sequences = steps;
  // Sequences 1..3 of a chunk, value 100 b + t; step-major [Nt, B] and sequence-major [B, Nt].
  std::vector<float> by_step(9), by_sequence(9);
  for (int b = 0; b < 3; ++b)
    for (int j = 0; j < 3; ++j) by_step[std::size_t(j * 3 + b)] = by_sequence[std::size_t(b * 3 + j)] = float(100 * b + j);
  engine::scatter_steps(by_step, 1, 3, 2, t.target_len, steps);
  engine::scatter_sequences(by_sequence, 1, 3, 2, t.target_len, sequences);
  for (const HostTensor<float>* out : {&steps, &sequences}) {
    const std::vector<float>& d = out->data;
    for (int j = 0; j < 3; ++j) EXPECT_TRUE(std::isnan(d[std::size_t(j)])) << "sequence 0 is not in the chunk";
    EXPECT_EQ(d[3], 0.0f);
    EXPECT_EQ(d[5], 2.0f);
    EXPECT_EQ(d[6], 100.0f);
    EXPECT_EQ(d[7], 101.0f);
    EXPECT_TRUE(std::isnan(d[8])) << "task 1 has 2 targets";
    EXPECT_EQ(d[10], 201.0f);
    EXPECT_TRUE(std::isnan(d[11]));
  }
}

TEST(EngineTests, EachSequenceGetsItsOwnCopyOfItsTask) {
  const TaskTensors t = two_tasks();
  const TaskTensors own = engine::one_task_per_sequence(t, 1, 3, 2);  // tasks 0, 1, 1
  EXPECT_EQ(own.x_context.shape, (Shape{3, 2, 1}));
  EXPECT_EQ(own.x_context.data, (std::vector<double>{1, 2, 3, 4, 3, 4}));
  EXPECT_EQ(own.y_context.data, (std::vector<double>{5, 6, 7, 8, 7, 8}));
  EXPECT_EQ(own.x_target.data, (std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.4, 0.5, 0.6}));
  EXPECT_EQ(own.context_len, (std::vector<std::int64_t>{2, 1, 1}));
  EXPECT_EQ(own.target_len, (std::vector<std::int64_t>{3, 2, 2}));
  EXPECT_FALSE(own.y_target.has_value());
}

}  // namespace
