// CSV inputs (issue 22, items 1 and 9): the formats of context and targets per job, the header
// rule, every bad cell located by file, line and column, and an empty context said out loud;
// density and sample from CSV give the same bytes as from the same data in safetensors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "artabpfn/csv_task.hpp"
#include "artabpfn/error.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string parse_error(const std::string& text) {
  try {
    (void)parse_csv_table(text, "t.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError for:\n" << text;
  return {};
}

TEST(IoTests, CsvTableFirstLineIsAHeaderOnlyWhenNoCellIsANumber) {
  const CsvTable with_header = parse_csv_table("x0, x1 ,y\n1,2,3\n", "t.csv");
  EXPECT_EQ(with_header.header, (std::vector<std::string>{"x0", "x1", "y"}));
  EXPECT_EQ(with_header.rows, 1);
  EXPECT_EQ(with_header.values, (std::vector<double>{1, 2, 3}));
  const CsvTable data = parse_csv_table("1,2,3\n4,5,6\n", "t.csv");
  EXPECT_TRUE(data.header.empty());
  EXPECT_EQ(data.rows, 2);
  // A first line mixing numbers and text is neither: the text is a bad cell, not a dropped row.
  EXPECT_THAT(parse_error("0.5,abc\n1,2\n"), HasSubstr("t.csv:1:2: 'abc' is not a number"));
  // A number out of range is still a number: the line is data, and the cell is bad.
  EXPECT_THAT(parse_error("1,2,1e400\n"), HasSubstr("t.csv:1:3: '1e400' is beyond the range of a double"));
}

TEST(IoTests, CsvTablePlusSignsSpacesCrlfAndBlankLinesAreAccepted) {
  const CsvTable t = parse_csv_table("+1 ,\t-2.5e-1, +.5\r\n\n   \n3,4,5e-400\n", "t.csv");
  EXPECT_EQ(t.rows, 2);
  EXPECT_EQ(t.values, (std::vector<double>{1, -0.25, 0.5, 3, 4, 0}));  // 5e-400 rounds to 0
}

TEST(IoTests, CsvTableEveryBadCellIsLocatedByLineAndColumn) {
  const std::string what = parse_error("x,y\n1,nan\n2,\n3,4,5\ninf,abc\n");
  EXPECT_THAT(what, HasSubstr("5 bad cell(s) or line(s)"));
  EXPECT_THAT(what, HasSubstr("t.csv:2:2: 'nan' is not finite"));
  EXPECT_THAT(what, HasSubstr("t.csv:3:2: empty cell"));
  EXPECT_THAT(what, HasSubstr("t.csv:4: 3 cells where line 1 (the header) has 2"));
  EXPECT_THAT(what, HasSubstr("t.csv:5:1: 'inf' is not finite"));
  EXPECT_THAT(what, HasSubstr("t.csv:5:2: 'abc' is not a number"));
  std::string many = "x\n";
  for (int i = 0; i < 25; ++i) many += "bad\n";
  EXPECT_THAT(parse_error(many), HasSubstr("and 15 more"));
}

TEST(IoTests, CsvTaskEmptyContextIsSaidAndTargetFormatsFollowTheJob) {
  std::vector<std::string> notices;
  const NoticeSink sink = [&](const std::string& line) { notices.push_back(line); };
  const CsvTable empty = parse_csv_table("x0,x1,y\n", "c.csv");
  const TaskTensors t = csv_task(empty, "c.csv", parse_csv_table("1,2,0.5\n", "t.csv"), "t.csv",
                                 CsvTargets::kFeaturesAndValue, sink);
  EXPECT_EQ(t.x_context.shape, (Shape{1, 0, 2}));
  ASSERT_TRUE(t.y_target);
  EXPECT_EQ(t.y_target->data, (std::vector<double>{0.5}));
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_THAT(notices[0], HasSubstr("c.csv: no data rows (only a header): the task has an empty context (Nc = 0)"));
  // Sample targets hold features only: the same targets now have 3 features, which the context contradicts.
  try {
    (void)csv_task(parse_csv_table("1,2,3\n", "c.csv"), "c.csv", parse_csv_table("1,2,0.5\n", "t.csv"), "t.csv",
                   CsvTargets::kFeaturesOnly, sink);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("c.csv has 3 column(s) and t.csv has 3"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("x_0..x_{F-1} (features only)"));
  }
}

// --- the command line ----------------------------------------------------------------------------

struct PaperCsv {
  TempDir dir;
  std::string weights = peer("paper_weights.safetensors");
  std::string context, density_targets, sample_targets, inputs;
  PaperCsv() {
    const TaskTensors t = paper_task0();
    context = write_text(dir / "ctx.csv", csv_rows(t.x_context, &t.y_context, "x0,x1,y"));
    density_targets = write_text(dir / "tgt_y.csv", csv_rows(t.x_target, &*t.y_target, "x0,x1,y"));
    sample_targets = write_text(dir / "tgt.csv", csv_rows(t.x_target, nullptr));
    inputs = write_task(dir / "task0.safetensors", t);
  }
};

TEST(CliTests, CsvDensityFromCsvEqualsTheSameDataInSafetensorsBitwise) {
  const PaperCsv f;
  for (const std::string ext : {".csv", ".safetensors"}) {
    const std::string from_csv = (f.dir / ("csv" + ext)).string(), from_st = (f.dir / ("st" + ext)).string();
    const std::string job = "density --backend reference --weights " + f.weights;
    const CommandResult a = run_cli(job + " --context " + f.context + " --targets " + f.density_targets + " --out " + from_csv);
    ASSERT_EQ(a.status, 0) << a.output;
    const CommandResult b = run_cli(job + " --inputs " + f.inputs + " --out " + from_st);
    ASSERT_EQ(b.status, 0) << b.output;
    EXPECT_EQ(read_text(from_csv), read_text(from_st)) << ext;
    EXPECT_GT(read_text(from_csv).size(), 100u);
  }
}

TEST(CliTests, CsvSampleFromCsvEqualsTheSameDataInSafetensorsBitwise) {
  const PaperCsv f;
  const std::string job = "sample --backend reference --samples 3 --seed 5 --weights " + f.weights;
  const std::string from_csv = (f.dir / "csv.csv").string(), from_st = (f.dir / "st.csv").string();
  const CommandResult a = run_cli(job + " --context " + f.context + " --targets " + f.sample_targets + " --out " + from_csv);
  ASSERT_EQ(a.status, 0) << a.output;
  ASSERT_EQ(run_cli(job + " --inputs " + f.inputs + " --out " + from_st).status, 0);
  EXPECT_EQ(read_text(from_csv), read_text(from_st));
}

TEST(CliTests, CsvTargetsInTheOtherJobsFormatAreExplained) {
  const PaperCsv f;
  const CommandResult density = run_cli("density --backend reference --weights " + f.weights + " --context " + f.context +
                                        " --targets " + f.sample_targets);
  EXPECT_EQ(density.status, 2) << density.output;
  EXPECT_THAT(density.output, HasSubstr("target rows are x_0..x_{F-1},y (the values to score"));
  const CommandResult sample = run_cli("sample --backend reference --samples 1 --seed 1 --weights " + f.weights +
                                       " --context " + f.context + " --targets " + f.density_targets);
  EXPECT_EQ(sample.status, 2) << sample.output;
  EXPECT_THAT(sample.output, HasSubstr("x_0..x_{F-1} (features only)"));
}

TEST(CliTests, CsvBadCellsAreReportedByFileLineAndColumnAndNoRowIsDropped) {
  const PaperCsv f;
  const std::string job = "density --backend reference --weights " + f.weights + " --targets " + f.density_targets;
  const std::string nan = write_text(f.dir / "nan.csv", "x0,x1,y\n1,2,3\n4,nan,6\n");
  const CommandResult r = run_cli(job + " --context " + nan);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(nan + ":3:2: 'nan' is not finite"));
  const std::string mixed = write_text(f.dir / "mixed.csv", "0.5,abc,1\n1,2,3\n");
  EXPECT_THAT(run_cli(job + " --context " + mixed).output, HasSubstr(mixed + ":1:2: 'abc' is not a number"));
  const std::string huge = write_text(f.dir / "huge.csv", "1,2,1e400\n");
  const CommandResult one_line = run_cli(job + " --context " + huge);
  EXPECT_EQ(one_line.status, 2) << one_line.output;
  EXPECT_THAT(one_line.output, HasSubstr(huge + ":1:3"));
}

TEST(CliTests, CsvEmptyContextIsSaidAndPlusSignsAreNumbers) {
  const PaperCsv f;
  const std::string header_only = write_text(f.dir / "empty.csv", "x0,x1,y\n");
  const std::string targets = write_text(f.dir / "plus.csv", "+0.5,-1,+2\n1,+1,0\n");
  const CommandResult r = run_cli("density --backend reference --weights " + f.weights + " --context " + header_only +
                                  " --targets " + targets);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("empty context (Nc = 0)"));
  EXPECT_THAT(r.output, Not(HasSubstr("nan")));
}

}  // namespace
}  // namespace artabpfn::test_support
