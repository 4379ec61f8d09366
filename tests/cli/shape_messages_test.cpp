// Shape messages (issue 22, item 13): a tensor whose shape does not fit is named with the shape it
// has in the file, next to the tensor that decides what it should be.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "artabpfn/error.hpp"
#include "tests/cli/cli_inputs.hpp"
#include "tests/cli/cli_run.hpp"
#include "tests/support/temp_dir.hpp"

namespace artabpfn::test_support {
namespace {

using ::testing::HasSubstr;

HostTensor<double> zeros(Shape shape) { return HostTensor<double>(std::move(shape)); }

std::string validation_error(TaskTensors t) {
  try {
    (void)validate_task_tensors(std::move(t), "in.safetensors");
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return {};
}

TaskTensors batch() {  // 4 tasks, Nc 37, Nt 45, F 2
  TaskTensors t;
  t.x_context = zeros({4, 37, 2});
  t.y_context = zeros({4, 37});
  t.x_target = zeros({4, 45, 2});
  t.y_target = zeros({4, 45});
  return t;
}

TEST(CliTests, ShapeMessagesEachNamesTheTensorAndItsShapeInTheFile) {
  TaskTensors one_context = batch();
  one_context.x_context = zeros({37, 2});
  EXPECT_THAT(validation_error(one_context),
              HasSubstr("in.safetensors: tensor 'x_context' has shape [37, 2], but x_target [4, 45, 2] is a batch of "
                        "tasks: expected x_context [T, Nc, F]"));
  TaskTensors one_target = batch();
  one_target.x_target = zeros({45, 2});
  one_target.y_target = zeros({45});
  EXPECT_THAT(validation_error(one_target),
              HasSubstr("tensor 'x_context' has shape [4, 37, 2], but x_target [45, 2] is one task: expected x_context "
                        "[Nc, F]"));
  TaskTensors features = batch();
  features.x_context = zeros({4, 37, 3});
  EXPECT_THAT(validation_error(features),
              HasSubstr("tensor 'x_context' has shape [4, 37, 3] with 3 features, but x_target [4, 45, 2] has 2"));
  TaskTensors rows = batch();
  rows.y_context = zeros({4, 36});
  EXPECT_THAT(validation_error(rows),
              HasSubstr("tensor 'y_context' has shape [4, 36] with 36 context rows, but x_context [4, 37, 2] has 37"));
  TaskTensors y = batch();
  y.y_target = zeros({4, 44});
  EXPECT_THAT(validation_error(y), HasSubstr("tensor 'y_target' has shape [4, 44] with 44 targets, but x_target [4, 45, 2] has 45"));
  TaskTensors single_rows = paper_task0();
  single_rows.y_context = zeros({36});
  EXPECT_THAT(validation_error(single_rows), HasSubstr("tensor 'y_context' has shape [36] with 36 context rows, but x_context [37, 2] has 37"));
}

TEST(CliTests, ShapeMessagesTheCommandLineReportsThemWithTheFile) {
  const TempDir dir;
  TaskTensors t = batch();
  t.x_context = zeros({37, 2});
  const std::string inputs = write_task(dir / "in.safetensors", t);
  const CommandResult r = run_cli("density --backend reference --weights " + peer("paper_weights.safetensors") +
                                  " --inputs " + inputs);
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(inputs + ": tensor 'x_context' has shape [37, 2]"));
}

TEST(CliTests, ShapeMessagesInputsWithoutATargetRowAreSaidToHaveNothingToDo) {
  const TempDir dir;
  TaskTensors t = paper_task0();
  t.x_target = zeros({0, 2});
  t.y_target = zeros({0});
  const CommandResult r = run_cli("density --backend reference --weights " + peer("paper_weights.safetensors") +
                                  " --inputs " + write_task(dir / "none.safetensors", t));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr("no task has a target row: nothing to score"));
}

}  // namespace
}  // namespace artabpfn::test_support
