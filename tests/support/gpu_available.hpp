#pragma once
// GPU tests skip with a clear message where no CUDA device exists, and run (and fail when
// wrong) where one does. Use as the first line of a GPU test: ARTABPFN_REQUIRE_GPU();
// On a GPU runner, ARTABPFN_EXPECT_GPU=1 turns the skip into a failure, so a broken driver
// cannot pass the gate as "skipped". Under `ctest --resource-spec-file` it first selects the
// card CTest gave the test (CTEST_RESOURCE_GROUP_0_GPUS), so a multi-GPU runner spreads tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernels/device.hpp"

#define ARTABPFN_REQUIRE_GPU()                                                          \
  do {                                                                                  \
    if (const std::string artabpfn_selection =                                         \
            ::artabpfn::kernels::select_device_from_ctest_resources();                  \
        !artabpfn_selection.empty())                                                    \
      FAIL() << "GPU selection: " << artabpfn_selection;                                \
    const std::string artabpfn_reason = ::artabpfn::kernels::gpu_unavailable_reason();  \
    if (!artabpfn_reason.empty()) {                                                     \
      if (const char* expect = std::getenv("ARTABPFN_EXPECT_GPU"); expect && *expect == '1') \
        FAIL() << "ARTABPFN_EXPECT_GPU=1 but no CUDA GPU: " << artabpfn_reason;         \
      GTEST_SKIP() << "no CUDA GPU: " << artabpfn_reason;                               \
    }                                                                                   \
  } while (0)
