// artabpfn._core: the model and its jobs (Model.load, Model.from_state_dict, density, sample),
// through the same library as the command line (jobs/): the same checks, messages and bits.
#include "model.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "artabpfn/error.hpp"
#include "artabpfn/safetensors.hpp"
#include "artabpfn/weights_loader.hpp"
#include "convert.hpp"
#include "jobs/backend.hpp"
#include "jobs/job.hpp"
#include "jobs/number_checks.hpp"
#include "module.hpp"

namespace artabpfn::python {
namespace {

LoadOptions collecting(std::optional<int> n_heads, std::vector<std::string>& notices) {
  return {n_heads, [&notices](const std::string& message) { notices.push_back(message); }};
}

Model load(const std::string& path, std::optional<int> n_heads) {
  Model m;
  m.weights = load_weights(path, collecting(n_heads, m.notices));
  return m;
}

// A state_dict: (name, safetensors dtype, shape, little-endian bytes) per tensor. It is laid out
// as a safetensors image in memory and read by the file loader, which infers the configuration
// and refuses what it refuses in a file, with the same messages.
Model from_tensors(
    const std::vector<std::tuple<std::string, std::string, std::vector<std::int64_t>, nb::bytes>>& tensors,
    std::optional<int> n_heads) {
  static const std::map<std::string, safetensors::DType> kDTypes = {
      {"F16", safetensors::DType::F16}, {"BF16", safetensors::DType::BF16}, {"F32", safetensors::DType::F32},
      {"F64", safetensors::DType::F64}, {"I32", safetensors::DType::I32},   {"I64", safetensors::DType::I64}};
  safetensors::Writer writer;
  for (const auto& [name, dtype, shape, bytes] : tensors) {
    std::vector<std::byte> data(bytes.size());
    std::memcpy(data.data(), bytes.c_str(), bytes.size());
    writer.add_raw(name, kDTypes.at(dtype), shape, std::move(data));
  }
  Model m;
  m.weights =
      weights_from_file(safetensors::File::parse(writer.to_bytes(), "state_dict"), collecting(n_heads, m.notices));
  return m;
}

nb::dict config_of(const Model& m) {
  const ModelConfig& c = m.weights.config;
  nb::dict d;
  d["d_model"] = c.d_model;
  d["n_heads"] = c.n_heads;
  d["n_layers"] = c.n_layers;
  d["d_ff"] = c.d_ff;
  d["buffer_size"] = c.buffer_size;
  d["num_components"] = c.num_components;
  return d;
}

// The tasks of a call, checked as an inputs file is (the same messages, `source` naming them).
TaskTensors task_tensors(const nb::dict& inputs, const std::string& source) {
  TaskTensors t;
  t.x_context = host_tensor(nb::cast<DoubleArray>(inputs["x_context"]));
  t.y_context = host_tensor(nb::cast<DoubleArray>(inputs["y_context"]));
  t.x_target = host_tensor(nb::cast<DoubleArray>(inputs["x_target"]));
  if (inputs.contains("y_target")) t.y_target = host_tensor(nb::cast<DoubleArray>(inputs["y_target"]));
  if (inputs.contains("context_len")) t.context_len = values_of(nb::cast<IntArray>(inputs["context_len"]));
  if (inputs.contains("target_len")) t.target_len = values_of(nb::cast<IntArray>(inputs["target_len"]));
  return validate_task_tensors(std::move(t), source);
}

// Thrown through the job when the progress callback raised (its Python error is pending).
struct CallbackRaised {};

// [T, R, Nt] (Nt: the inputs' padded width), NaN past each task's target count.
NumpyDoubles table_array(const jobs::Table& table, std::int64_t nt) {
  const std::int64_t tasks = std::int64_t(table.size()), rows = table.empty() ? 0 : std::int64_t(table[0].size());
  std::vector<double> values(std::size_t(tasks * rows * nt), std::numeric_limits<double>::quiet_NaN());
  for (std::int64_t t = 0; t < tasks; ++t)
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::vector<double>& row = table[std::size_t(t)][std::size_t(r)];
      std::copy(row.begin(), row.end(), values.begin() + (t * rows + r) * nt);
    }
  return numpy_array(std::move(values), {tasks, rows, nt});
}

// One job: (result [T, R, Nt], the combination that ran, notices). Bad input raises ValueError
// with the command line's message; the GIL is released while the job runs.
nb::tuple run(const Model& m, const std::string& job, const nb::dict& inputs, const std::string& backend,
              const std::string& attention, const std::string& precision, std::int64_t samples, const std::string& seed,
              nb::object progress, const std::string& source) {
  const jobs::Combination asked = jobs::check_job_settings(job, backend, attention, precision);
  jobs::JobRequest request{asked, samples, 0, source, {}, {}};
  if (job == "sample") {
    if (const std::string problem = jobs::integer_problem(std::to_string(samples), 1, jobs::kMaxSamples);
        !problem.empty())
      throw InputError("samples: " + problem);
    if (const std::string problem = jobs::seed_problem(seed); !problem.empty()) throw InputError("seed: " + problem);
    request.seed = std::stoull(seed);
  }
  const TaskTensors tasks = task_tensors(inputs, source);
  std::vector<std::string> notices;
  request.notices = [&notices](const std::string& message) { notices.push_back(message); };
  // Called on this thread without the GIL: takes it, lets Ctrl-C through, calls the callback.
  request.progress = [&progress](std::int64_t done, std::int64_t total) {
    nb::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw CallbackRaised{};
    if (progress.is_none()) return;
    try {
      progress(done, total);
    } catch (nb::python_error& e) {
      e.restore();
      throw CallbackRaised{};
    }
  };
  jobs::JobResult result;
  try {
    nb::gil_scoped_release released;
    result = jobs::run_job(request, m.weights, tasks);
  } catch (const CallbackRaised&) {
    throw nb::python_error();
  }
  nb::dict ran;
  ran["job"] = std::string(result.ran.job);
  ran["backend"] = std::string(result.ran.backend);
  ran["attention"] = std::string(result.ran.attention);
  ran["precision"] = std::string(result.ran.precision);
  return nb::make_tuple(table_array(result.table, tasks.x_target.dim(1)), ran, notices);
}

// The tasks of an inputs file, as the command line reads them (batched layout, y_target [T, R, Nt]).
nb::dict load_inputs(const std::string& path) {
  const TaskTensors t = load_task_tensors(path);
  nb::dict d;
  d["x_context"] = numpy_array(t.x_context);
  d["y_context"] = numpy_array(t.y_context);
  d["x_target"] = numpy_array(t.x_target);
  if (t.y_target) d["y_target"] = numpy_array(*t.y_target);
  d["context_len"] = numpy_array(t.context_len, {t.task_count()});
  d["target_len"] = numpy_array(t.target_len, {t.task_count()});
  return d;
}

}  // namespace

void add_model(nb::module_& m) {
  nb::class_<Model>(m, "Model")
      .def_static("load", &load, nb::arg("path"), nb::arg("n_heads") = nb::none())
      .def_static("from_tensors", &from_tensors, nb::arg("tensors"), nb::arg("n_heads") = nb::none())
      .def_prop_ro("config", &config_of)
      .def_ro("notices", &Model::notices)
      .def("run", &run, nb::arg("job"), nb::arg("inputs"), nb::arg("backend"), nb::arg("attention"),
           nb::arg("precision"), nb::arg("samples"), nb::arg("seed"), nb::arg("progress").none(), nb::arg("source"));
  m.def("load_inputs", &load_inputs, nb::arg("path"));
  m.def("built_with_cuda", [] { return bool(ARTABPFN_HAS_ENGINE); });
  m.def("cuda_unavailable_reason", [] { return jobs::gpu_unavailable(); });
  m.def("job_settings", [] {
    std::vector<std::tuple<std::string, std::string, std::string, std::string>> rows;
    for (const jobs::Combination& c : jobs::combinations())
      rows.emplace_back(std::string(c.job), std::string(c.backend), std::string(c.attention), std::string(c.precision));
    return rows;
  });
}

}  // namespace artabpfn::python
