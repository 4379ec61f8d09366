// The artabpfn command line end to end: outputs equal the library's results, the formats
// agree with each other, runs are reproducible, and bad input exits non-zero with a message.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

#include "artabpfn/safetensors.hpp"
#include "tests/support/fixtures_dir.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"

namespace artabpfn::test_support {
namespace {

CommandResult run(const std::string& arguments) { return run_cli(arguments); }

std::vector<std::vector<double>> read_csv_values(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::string cell;
    std::vector<double> row;
    for (int column = 0; std::getline(cells, cell, ','); ++column)
      if (column >= 2) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

TEST(CliTests, DensityCsvMatchesPeerAndSafetensorsOutput) {
  const TempDir dir;
  const std::string csv = (dir.path() / "d.csv").string(), st = (dir.path() / "d.safetensors").string();
  // The double reference (the default cuda backend is float32 where a GPU exists).
  const std::string args = "density --backend reference --weights " + peer("paper_weights.safetensors") + " --inputs " +
                           peer("paper_io.safetensors");
  const CommandResult a = run(args + " --out " + csv);
  ASSERT_EQ(a.status, 0) << a.output;
  ASSERT_EQ(run(args + " --out " + st).status, 0);
  const auto rows = read_csv_values(csv);
  const auto expected = safetensors::File::read(peer("paper_io.safetensors")).to_f64("tf_logpdf");
  const auto written = safetensors::File::read(st).to_f64("logpdf");
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t t = 0; t < rows.size(); ++t)
    for (std::size_t i = 0; i < rows[t].size(); ++i) {
      EXPECT_NEAR(rows[t][i], expected.data[t * 45 + i], 1e-10);
      EXPECT_EQ(rows[t][i], written.data[t * 45 + i]);  // 17 digits round-trip exactly
    }
}

TEST(CliTests, SamplingIsReproducibleForASeed) {
  const TempDir dir;
  const std::string args = "sample --backend reference --weights " + peer("paper_weights.safetensors") + " --inputs " +
                           peer("paper_io.safetensors") + " --samples 3 --seed 7 --out ";
  ASSERT_EQ(run(args + (dir.path() / "a.csv").string()).status, 0);
  ASSERT_EQ(run(args + (dir.path() / "b.csv").string()).status, 0);
  const auto a = read_csv_values((dir.path() / "a.csv").string());
  EXPECT_EQ(a, read_csv_values((dir.path() / "b.csv").string()));
  EXPECT_EQ(a.size(), 4u * 3u);
}

TEST(CliTests, ReplayReproducesARecordedRunAndDetectsChangedInputs) {
  const TempDir dir;
  const std::string inputs = (dir.path() / "inputs.safetensors").string();
  std::filesystem::copy_file(peer("paper_io.safetensors"), inputs);
  const std::string out = (dir.path() / "s.csv").string();
  ASSERT_EQ(run("sample --backend reference --weights " + peer("paper_weights.safetensors") + " --inputs " + inputs +
                " --samples 2 --seed 11 --out " + out)
                .status,
            0);
  const std::string manifest = out + ".manifest.json";
  ASSERT_TRUE(std::filesystem::exists(manifest));
  const CommandResult same = run("replay " + manifest);
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_NE(same.output.find("identical"), std::string::npos) << same.output;
  // An input that changed since the run is named, and nothing is compared.
  { std::ofstream(inputs, std::ios::app) << "x"; }
  const CommandResult changed = run("replay " + manifest);
  EXPECT_EQ(changed.status, 2) << changed.output;
  EXPECT_NE(changed.output.find("inputs"), std::string::npos) << changed.output;
  EXPECT_NE(changed.output.find("changed since the run"), std::string::npos) << changed.output;
}

TEST(CliTests, ReplayReportsADifferentOutput) {
  const TempDir dir;
  const std::string out = (dir.path() / "d.csv").string();
  ASSERT_EQ(run("density --backend reference --weights " + peer("paper_weights.safetensors") + " --inputs " +
                peer("paper_io.safetensors") + " --out " + out)
                .status,
            0);
  // Pretend the recorded output was different: edit the checksum in the manifest.
  const std::string manifest = out + ".manifest.json";
  std::ifstream in(manifest);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::size_t at = text.find("\"sha256\"", text.find("\"output\""));
  ASSERT_NE(at, std::string::npos);
  const std::size_t digit = text.find('"', text.find(':', at)) + 1;
  text[digit] = text[digit] == '0' ? '1' : '0';
  std::ofstream(manifest) << text;
  const CommandResult r = run("replay " + manifest);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("DIFFERENT"), std::string::npos) << r.output;
}

TEST(CliTests, NanInputIsRejectedWithAMessage) {
  const TempDir dir;
  const std::string bad = (dir.path() / "nan.safetensors").string();
  safetensors::Writer w;
  w.add("x_context", HostTensor<double>(Shape{2, 1}, std::vector<double>{0.5, std::numeric_limits<double>::quiet_NaN()}));
  w.add("y_context", HostTensor<double>(Shape{2}, std::vector<double>{1.0, 2.0}));
  w.add("x_target", HostTensor<double>(Shape{1, 1}, std::vector<double>{0.0}));
  w.add("y_target", HostTensor<double>(Shape{1}, std::vector<double>{0.0}));
  w.write(bad);
  const CommandResult r = run("density --weights " + peer("paper_weights.safetensors") + " --inputs " + bad);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("x_context"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("NaN"), std::string::npos) << r.output;
}

TEST(CliTests, ShapeMismatchMissingFileAndUnknownOptionFail) {
  const TempDir dir;
  const std::string bad = (dir.path() / "shape.safetensors").string();
  safetensors::Writer w;
  w.add("x_context", HostTensor<double>(Shape{2, 2}, std::vector<double>{0.5, 0.1, 0.2, 0.3}));
  w.add("y_context", HostTensor<double>(Shape{3}, std::vector<double>{1.0, 2.0, 3.0}));
  w.add("x_target", HostTensor<double>(Shape{1, 2}, std::vector<double>{0.0, 1.0}));
  w.write(bad);
  const CommandResult shape = run("sample --samples 1 --seed 1 --weights " + peer("paper_weights.safetensors") + " --inputs " + bad);
  EXPECT_EQ(shape.status, 2);
  EXPECT_NE(shape.output.find("y_context"), std::string::npos) << shape.output;
  EXPECT_EQ(run("density --weights does-not-exist.safetensors --inputs " + bad).status, 2);
  EXPECT_EQ(run("density --no-such-option").status, 2);
}

}  // namespace
}  // namespace artabpfn::test_support
