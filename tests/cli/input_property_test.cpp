// The input layer as a property (issue 22): random malformed CSV and safetensors inputs and random
// option strings never crash the command line and never end in exit status 0 with NaN in the
// output. Each run exits 0 with an output free of NaN, or 2 with a message.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "artabpfn/safetensors.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

namespace gen = rc::gen;

// About half the cases are well formed; the others carry one or more defects, so that both exit
// statuses are exercised (RapidCheck prints the share of each).

// A CSV cell: mostly numbers, sometimes what a user's file may hold instead.
rc::Gen<std::string> cell() {
  return gen::weightedOneOf<std::string>(
      {{40, gen::map(gen::inRange(-2000, 2000), [](int v) { return std::to_string(double(v) / 100.0); })},
       {4, gen::element<std::string>("+1", "-2.5e-3", " 3 ", "\t4", "0", "1e300", "-1e300", "1e-400", "5e-324", "1e38")},
       {1, gen::element<std::string>("nan", "inf", "-inf", "1e400", "abc", "", "x0", "\"1\"", "1;2", "--", "0x10", "+-1")}});
}

// CSV text of `columns` columns: an optional header, rows (a ragged one now and then), blank
// lines, CRLF.
rc::Gen<std::string> csv_text(int columns) {
  return gen::exec([columns] {
    std::string text;
    if (*gen::inRange(0, 3) == 0) {
      for (int c = 0; c < columns; ++c) text.append(c ? "," : "").append(c + 1 < columns ? "x" : "y");
      text += "\n";
    }
    const int rows = *gen::inRange(0, 12) == 0 ? 0 : *gen::inRange(1, 6);
    for (int r = 0; r < rows; ++r) {
      const int n = *gen::inRange(0, 20) == 0 ? *gen::inRange(1, 5) : columns;
      for (int c = 0; c < n; ++c) text.append(c ? "," : "").append(*cell());
      text += *gen::element<std::string>("\n", "\n", "\r\n", "\n\n");
    }
    return text;
  });
}

rc::Gen<double> value() {
  return gen::weightedOneOf<double>(
      {{60, gen::map(gen::inRange(-300, 300), [](int v) { return double(v) / 100.0; })},
       {2, gen::element(0.0, 1e300, -1e300, 1e38, 3e38, 1e155, 5e-324)},
       {1, gen::element(std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity())}});
}

rc::Gen<HostTensor<double>> tensor(Shape shape) {
  return gen::map(gen::container<std::vector<double>>(static_cast<std::size_t>(element_count(shape)), value()),
                  [shape](std::vector<double> values) { return HostTensor<double>(shape, std::move(values)); });
}

// An inputs file: the tensors of T tasks (or one task without the T dimension) with agreeing
// shapes; now and then a shape changed, a tensor dropped, lengths added, the dtype narrowed to
// F32, the bytes cut short or one byte changed.
rc::Gen<std::vector<std::byte>> safetensors_bytes() {
  return gen::exec([] {
    const std::int64_t tasks = *gen::inRange(1, 3), nc = *gen::inRange(0, 4), nt = *gen::inRange(1, 4),
                       features = *gen::inRange(1, 3);
    const bool single = tasks == 1 && *gen::arbitrary<bool>();
    const auto shape = [&](Shape per_task) {
      if (!single) per_task.insert(per_task.begin(), tasks);
      if (*gen::inRange(0, 25) == 0) per_task = *gen::container<Shape>(*gen::inRange<std::size_t>(0, 4), gen::inRange<std::int64_t>(0, 4));
      return per_task;
    };
    safetensors::Writer w;
    const bool narrow = *gen::inRange(0, 6) == 0;
    for (const auto& [name, per_task] : {std::pair<const char*, Shape>{"x_context", {nc, features}},
                                         {"y_context", {nc}}, {"x_target", {nt, features}}, {"y_target", {nt}}}) {
      if (*gen::inRange(0, 25) == 0) continue;
      const HostTensor<double> t = *tensor(shape(per_task));
      if (narrow) w.add(name, HostTensor<float>(t.shape, std::vector<float>(t.data.begin(), t.data.end())));
      else w.add(name, t);
    }
    for (const auto& [name, padded] : {std::pair<const char*, std::int64_t>{"context_len", nc}, {"target_len", nt}})
      if (*gen::inRange(0, 5) == 0)
        w.add(name, HostTensor<std::int64_t>({tasks}, *gen::container<std::vector<std::int64_t>>(
                                                          std::size_t(tasks), gen::inRange<std::int64_t>(-1, padded + 2))));
    std::vector<std::byte> bytes = w.to_bytes();
    const int damage = *gen::inRange(0, 20);
    if (damage == 0) bytes.resize(*gen::inRange<std::size_t>(0, bytes.size()));
    if (damage == 1) bytes[*gen::inRange<std::size_t>(0, bytes.size())] = std::byte(*gen::inRange(0, 256));
    return bytes;
  });
}

// Options as a user might type them, good and bad (none in most cases; --seed and --samples
// only as a second, bad value).
rc::Gen<std::vector<std::string>> options() {
  const auto option = gen::weightedOneOf<std::vector<std::string>>({
      {4, gen::map(gen::element<std::string>("cuda", "reference", "reference", "reference-mp", "gpu", ""),
                   [](std::string v) { return std::vector<std::string>{"--backend", v}; })},
      {2, gen::map(gen::element<std::string>("fused", "split", "reencode", "flash"),
                   [](std::string v) { return std::vector<std::string>{"--attention", v}; })},
      {2, gen::map(gen::element<std::string>("float32", "mixed", "float64", "multiprecision-50", "bf16"),
                   [](std::string v) { return std::vector<std::string>{"--precision", v}; })},
      {2, gen::map(gen::element<std::string>("2", "2", "1", "4", "0", "-1", "x", "99999999999"),
                   [](std::string v) { return std::vector<std::string>{"--n-heads", v}; })},
      {1, gen::map(gen::element<std::string>("-1", "1e3", "18446744073709551616", "", "+1"),
                   [](std::string v) { return std::vector<std::string>{"--seed", v}; })},
      {1, gen::map(gen::element<std::string>("0", "-3", "99999999999", "two"),
                   [](std::string v) { return std::vector<std::string>{"--samples", v}; })},
      {1, gen::element(std::vector<std::string>{"--wieghts", "x"}, std::vector<std::string>{"--out"},
                       std::vector<std::string>{"extra"}, std::vector<std::string>{"--inputs"})}});
  return gen::exec([option] {
    std::vector<std::string> flat;
    for (int n = *gen::element(0, 0, 0, 0, 1, 1, 2); n > 0; --n) {
      const std::vector<std::string> group = *option;
      flat.insert(flat.end(), group.begin(), group.end());
    }
    return flat;
  });
}

std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// True when no used value of a written output is NaN.
bool output_free_of_nan(const std::filesystem::path& out) {
  if (out.extension() == ".csv") {
    const std::string text = read_text(out);
    return text.find("nan") == std::string::npos && text.find("NaN") == std::string::npos;
  }
  const safetensors::File file = safetensors::File::read(out);
  const std::string name = file.contains("logpdf") ? "logpdf" : "samples";
  const HostTensor<double> values = file.to_f64(name);
  const HostTensor<std::int64_t> len = file.to_i64("target_len");
  for (std::int64_t t = 0; t < values.dim(0); ++t)
    for (std::int64_t r = 0; r < values.dim(1); ++r)
      for (std::int64_t i = 0; i < len.data[std::size_t(t)]; ++i)
        if (std::isnan(values.data[std::size_t((t * values.dim(1) + r) * values.dim(2) + i)])) return false;
  return true;
}

RC_GTEST_PROP(CliProperties, InputLayerExitsZeroWithoutNanOrTwoWithAMessage, ()) {
  static const TempDir model_dir;
  static const std::string weights = tiny_weights(model_dir / "w.safetensors");
  const TempDir dir;
  const std::string job = *gen::element<std::string>("density", "sample");
  std::vector<std::string> args = {job, "--weights", weights};
  if (*gen::arbitrary<bool>()) {
    // Context x_0..x_{F-1},y; targets the job's format, or now and then the other one.
    const int features = *gen::inRange(1, 3);
    const bool with_y = (job == "density") != (*gen::inRange(0, 10) == 0);
    const std::string context = write_text(dir / "c.csv", *csv_text(features + 1));
    const std::string targets = write_text(dir / "t.csv", *csv_text(features + (with_y ? 1 : 0)));
    args.insert(args.end(), {"--context", context, "--targets", targets});
  } else {
    const std::vector<std::byte> bytes = *safetensors_bytes();
    std::ofstream(dir / "in.safetensors", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    args.insert(args.end(), {"--inputs", (dir / "in.safetensors").string()});
  }
  if (job == "sample") args.insert(args.end(), {"--samples", "2", "--seed", "3"});
  const std::string out =
      (dir / *gen::weightedElement<std::string>({{8, "o.csv"}, {8, "o.safetensors"}, {1, "o.txt"}, {1, "no-folder/o.csv"}}))
          .string();
  args.insert(args.end(), {"--out", out});
  const std::vector<std::string> more = *options();
  args.insert(args.end(), more.begin(), more.end());

  std::string command;
  for (const std::string& a : args) command.append(" ").append(quoted(a));
  const CommandResult r = run_cli(command);
  RC_LOG() << command << "\n" << r.output;
  RC_ASSERT(r.status == 0 || r.status == 2);
  RC_TAG(r.status == 0 ? "exit 0" : "exit 2");  // the share of each is printed after the run
  RC_ASSERT(r.output.find("internal error") == std::string::npos);
  if (r.status == 2) {
    RC_ASSERT(r.output.find("artabpfn: error: ") != std::string::npos);
  } else {
    RC_ASSERT(std::filesystem::exists(out));
    RC_ASSERT(output_free_of_nan(out));
  }
}

}  // namespace
}  // namespace artabpfn::test_support
