#pragma once
// Files the command-line tests give the CLI: the bundled paper fixture, a tiny model's weights,
// task tensors as safetensors, and text (CSV) files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "artabpfn/safetensors.hpp"
#include "artabpfn/task_tensors.hpp"
#include "artabpfn/weights_loader.hpp"
#include "artabpfn/random_weights.hpp"
#include "tests/support/fixtures_dir.hpp"

namespace artabpfn::test_support {

inline std::string peer(const std::string& file) { return (fixtures_dir() / "peer" / file).string(); }

inline std::string write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

// A model small enough that a CLI run on it takes milliseconds (D 8, 2 heads, 1 layer, d_ff 8,
// L 4, K 3), with weights drawn by the conformance vectors' generator.
inline std::string tiny_weights(const std::filesystem::path& path, std::uint64_t seed = 1) {
  const ModelConfig config{.d_model = 8, .n_heads = 2, .n_layers = 1, .d_ff = 8, .buffer_size = 4, .num_components = 3};
  save_weights(random_weights(config, seed), path);
  return path.string();
}

// Writes the tensors of `t` (optional ones only when present) as an inputs file.
inline std::string write_task(const std::filesystem::path& path, const TaskTensors& t) {
  safetensors::Writer w;
  w.add("x_context", t.x_context);
  w.add("y_context", t.y_context);
  w.add("x_target", t.x_target);
  if (t.y_target) w.add("y_target", *t.y_target);
  w.write(path);
  return path.string();
}

// Task 0 of the paper fixture (Nc 37, Nt 45, F 2), one task without the leading T dimension.
inline TaskTensors paper_task0() {
  const safetensors::File file = safetensors::File::read(peer("paper_io.safetensors"));
  const auto first = [&](const char* name) {
    HostTensor<double> all = file.to_f64(name);
    Shape shape(all.shape.begin() + 1, all.shape.end());
    const auto n = static_cast<std::size_t>(element_count(shape));
    return HostTensor<double>(shape, std::vector<double>(all.data.begin(), all.data.begin() + std::ptrdiff_t(n)));
  };
  TaskTensors t;
  t.x_context = first("x_context");
  t.y_context = first("y_context");
  t.x_target = first("x_target");
  t.y_target = first("y_target");
  return t;
}

// Rows "x_0,...,x_{F-1}[,y]" of x [N, F] (and y [N]), 17 significant digits (doubles round-trip).
inline std::string csv_rows(const HostTensor<double>& x, const HostTensor<double>* y, const std::string& header = "") {
  std::string text = header.empty() ? "" : header + "\n";
  const std::int64_t rows = x.dim(0), features = x.dim(1);
  char cell[40];
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t f = 0; f < features; ++f) {
      std::snprintf(cell, sizeof cell, "%s%.17g", f ? "," : "", x.data[std::size_t(i * features + f)]);
      text += cell;
    }
    if (y) {
      std::snprintf(cell, sizeof cell, ",%.17g", y->data[std::size_t(i)]);
      text += cell;
    }
    text += "\n";
  }
  return text;
}

}  // namespace artabpfn::test_support
