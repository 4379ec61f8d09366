#pragma once
// Notices are the non-fatal messages of loading and running (an upcast dtype, a stripped name
// prefix, an unknown tensor). Callers decide where they go; tests capture them.
#include <functional>
#include <string>

namespace artabpfn {

using NoticeSink = std::function<void(const std::string&)>;

// Writes "artabpfn: <message>" lines to stderr.
NoticeSink stderr_notices();

}  // namespace artabpfn
