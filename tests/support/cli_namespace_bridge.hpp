#pragma once
// The sources of tests/cli still open namespace artabpfn::testing (the old name of
// artabpfn::test_support) and use these helpers unqualified; this makes them visible there.
// Remove it once those sources say artabpfn::test_support.
namespace artabpfn::test_support {}
namespace artabpfn::testing {
using namespace artabpfn::test_support;
}  // namespace artabpfn::testing
