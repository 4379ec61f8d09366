// The end-to-end benchmark's FLOP and byte counts (bench/e2e/cost_model.hpp) against a hand count
// of a tiny configuration, written out here term by term, and the floor arithmetic.
#include <gtest/gtest.h>

#include "bench/e2e/cost_model.hpp"

namespace {

using artabpfn::bench::Ceilings;
using artabpfn::bench::Cost;
using artabpfn::bench::Shapes;

// D 4, H 2, one layer, d_ff 8, K 2, one feature.
Shapes tiny() {
  Shapes s;
  s.d = 4;
  s.heads = 2;
  s.layers = 1;
  s.d_ff = 8;
  s.components = 2;
  s.features = 1;
  return s;
}

// Hand count for the tiny configuration:
//   products per row and layer: 6 D^2 + 2 D d_ff = 96 + 64 = 160 MAC = 320 FLOP
//   attention per query row and key: H x (Dh + Dh) = 2 x (2 + 2) = 8 MAC = 16 FLOP
//   head per row: D d_ff + d_ff 3K = 32 + 48 = 80 MAC = 160 FLOP
//   weights: layer 160 + biases (8 + 4) + LayerNorms 3 x 2 x 4 = 196; head 32 + 8 + 48 + 6 = 94;
//            final LayerNorm 8; total 298 floats
TEST(BenchTests, CostModelPerRowTermsOfTheTinyConfig) {
  const Shapes s = tiny();
  EXPECT_EQ(artabpfn::bench::row_layer_flops(s), 320.0);
  EXPECT_EQ(artabpfn::bench::attention_key_flops(s), 16.0);
  EXPECT_EQ(artabpfn::bench::head_row_flops(s), 160.0);
  EXPECT_EQ(artabpfn::bench::weight_floats(s), 298.0);
}

// Prefill of Nc 2: rows 2 x 320 = 640, pairs 2 x 2 x 16 = 64 -> 704 FLOP.
// Bytes: 4 x (weights 298 + values 2 x (1 feature + y) = 4 + context K/V 2 x 1 x 2 x 4 = 16) = 1272.
TEST(BenchTests, CostModelPrefillHandCount) {
  const Cost c = artabpfn::bench::prefill_cost(tiny(), 2);
  EXPECT_EQ(c.flops, 704.0);
  EXPECT_EQ(c.bytes, 1272.0);
}

// sample_sequence, B 3, Nc 2, Nt 3 (kv_row = K and V of one row in every layer = 8 floats):
//   step 0: 3 target rows x (320 + (2 + 0) x 16) = 1056, head 3 x 160 = 480      -> 1536 FLOP
//           bytes 4 x (298 + context 2 x 8 + no buffer + no append + 3 x (1 + 2)) = 4 x 323 = 1292
//   step 1: 6 rows x (320 + 3 x 16) = 2208, head 480                             -> 2688 FLOP
//           bytes 4 x (298 + 16 + buffer 3 x 8 x 1 + append 3 x 8 + 9) = 4 x 371 = 1484
//   step 2: 6 rows x (320 + 4 x 16) = 2304, head 480                             -> 2784 FLOP
//           bytes 4 x (298 + 16 + 3 x 8 x 2 + 24 + 9) = 4 x 395 = 1580
//   with the prefill: 704 + 1536 + 2688 + 2784 = 7712 FLOP; 1272 + 1292 + 1484 + 1580 = 5628 bytes
TEST(BenchTests, CostModelSampleSequenceHandCount) {
  const Shapes s = tiny();
  EXPECT_EQ(artabpfn::bench::step_cost(s, 3, 2, 0).flops, 1536.0);
  EXPECT_EQ(artabpfn::bench::step_cost(s, 3, 2, 1).flops, 2688.0);
  EXPECT_EQ(artabpfn::bench::step_cost(s, 3, 2, 2).flops, 2784.0);
  EXPECT_EQ(artabpfn::bench::step_cost(s, 3, 2, 0).bytes, 1292.0);
  EXPECT_EQ(artabpfn::bench::step_cost(s, 3, 2, 1).bytes, 1484.0);
  EXPECT_EQ(artabpfn::bench::step_cost(s, 3, 2, 2).bytes, 1580.0);
  const Cost c = artabpfn::bench::sample_cost(s, 3, 2, 3);
  EXPECT_EQ(c.flops, 7712.0);
  EXPECT_EQ(c.bytes, 5628.0);
}

// evaluate_joint_density, 3 value sets, Nc 2, Nt 3: per sequence 3 targets + 2 buffers = 5 rows;
//   rows 3 x 5 x 320 = 4800; pairs per sequence: targets 2 + 3 + 4 = 9, buffers 3 + 4 = 7, so
//   16 x 16 x 3 = 768; head 3 x 3 x 160 = 1440; with the prefill 704 + 4800 + 768 + 1440 = 7712
//   (the same arithmetic as sampling). Bytes: prefill 1272 + 4 x (weights 298 + context K/V 16
//   + values in and log densities out 3 x 3 x 2 = 18 + features 3 x 1) = 1272 + 1340 = 2612.
TEST(BenchTests, CostModelDensityHandCount) {
  const Cost c = artabpfn::bench::density_cost(tiny(), 3, 2, 3);
  EXPECT_EQ(c.flops, 7712.0);
  EXPECT_EQ(c.bytes, 2612.0);
}

// Reencode, B 2, Nc 2, Nt 2: step 0 re-encodes the context (704), a pass of 1 buffer + 1 target
//   row (2 x 320 = 640), pairs target 2 + buffer 3 = 5 (x 16 = 80), head 1 row (160): 1584;
//   step 1: 704 + 4 x 320 = 1280 + pairs (2 + 3) + (3 + 4) = 12 (x 16 = 192) + head 2 rows 320
//   = 2496; per sequence 4080, two sequences 8160.
TEST(BenchTests, CostModelReencodeHandCount) { EXPECT_EQ(artabpfn::bench::reencode_flops(tiny(), 2, 2, 2), 8160.0); }

// NOTES.md's decode step (paper config, B 256, Nc 256, t 32): 2.94 GFLOP and ~115 MB.
TEST(BenchTests, CostModelPaperDecodeStepMatchesNotes) {
  const Cost c = artabpfn::bench::step_cost(Shapes{}, 256, 256, 32);
  // rows 512 x 12 x (327,680 + 288 x 512) + head 256 x 96,256
  EXPECT_EQ(c.flops, 512.0 * 12.0 * (327680.0 + 288.0 * 512.0) + 256.0 * 96256.0);
  EXPECT_NEAR(c.flops, 2.944e9, 1e6);
  EXPECT_NEAR(c.bytes, 115.1e6, 0.1e6);
}

// Floor: max of compute and memory time; fraction = floor / measured.
TEST(BenchTests, CostModelFloorArithmetic) {
  const Ceilings ceil{1000.0, 500.0};  // 1000 FLOP/s, 500 B/s
  const auto compute = artabpfn::bench::time_floor(Cost{7712.0, 2612.0}, ceil);
  EXPECT_DOUBLE_EQ(compute.compute_s, 7.712);
  EXPECT_DOUBLE_EQ(compute.memory_s, 5.224);
  EXPECT_DOUBLE_EQ(compute.floor_s, 7.712);
  EXPECT_EQ(compute.bound, "compute");
  EXPECT_DOUBLE_EQ(artabpfn::bench::floor_fraction(compute, 15.424), 0.5);
  const auto memory = artabpfn::bench::time_floor(Cost{7712.0, 5628.0}, ceil);
  EXPECT_DOUBLE_EQ(memory.floor_s, 11.256);
  EXPECT_EQ(memory.bound, "memory");
  EXPECT_DOUBLE_EQ(artabpfn::bench::floor_fraction(memory, 0.0), 0.0);
}

// Memory estimates (the engine's planning): workspace 15 D + d_ff + 3K + 3H = 60 + 8 + 6 + 6 = 80
//   floats per row; prefill 4 x (2 x 1 x 2 x 4 + 2 x 80) = 704 bytes; sampling per sequence
//   1 x 2 x 3 x 4 + 2 x 80 + 2 x 3 + 8 = 198 floats -> B 3: 4 x 594 + 704 = 3080 bytes;
//   density per sequence 2 x 3 x (80 + 8) + 24 = 552 floats -> 3 sets: 4 x 1656 + 704 = 7328.
TEST(BenchTests, CostModelMemoryEstimates) {
  const Shapes s = tiny();
  EXPECT_EQ(artabpfn::bench::prefill_bytes(s, 2), 704.0);
  EXPECT_EQ(artabpfn::bench::sample_bytes(s, 3, 2, 3), 3080.0);
  EXPECT_EQ(artabpfn::bench::density_bytes(s, 3, 2, 3), 7328.0);
}

}  // namespace
