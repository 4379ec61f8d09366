#include "artabpfn/notices.hpp"

#include <cstdio>

namespace artabpfn {

NoticeSink stderr_notices() {
  return [](const std::string& message) {
    // One write per notice, so that notices from several threads do not interleave mid-line.
    const std::string line = "artabpfn: " + message + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace artabpfn
