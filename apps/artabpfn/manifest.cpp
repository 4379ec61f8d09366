#include "manifest.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "artabpfn/error.hpp"
#include "artabpfn/random_stream.hpp"
#include "artabpfn/sha256.hpp"
#if ARTABPFN_HAS_ENGINE
#include "kernels/device.hpp"
#endif

namespace artabpfn::cli {
namespace {

using nlohmann::json;

json file_entry(const std::string& path) {
  return {{"path", std::filesystem::absolute(path).string()}, {"sha256", sha256_file_hex(path)}};
}

// The recorded file's path, after checking that its content still has the recorded checksum.
std::string checked_path(const json& entry, const std::string& what) {
  const std::string path = entry.at("path").get<std::string>();
  const std::string expected = entry.at("sha256").get<std::string>();
  const std::string actual = sha256_file_hex(path);
  if (actual != expected)
    throw InputError(fmt::format("{} '{}' changed since the run: sha256 {} where the manifest records {}", what, path,
                                 actual, expected));
  return path;
}

}  // namespace

std::string manifest_path_for(const std::string& output) { return output + ".manifest.json"; }

std::string environment_description(const std::string& backend) {
  std::string gpu = "none";
#if ARTABPFN_HAS_ENGINE
  if (backend == "cuda") gpu = kernels::gpu_description();
#endif
  return fmt::format("backend {}, gpu {}, artabpfn {} ({})", backend, gpu, ARTABPFN_VERSION, ARTABPFN_GIT_COMMIT);
}

void write_manifest(const JobSpec& spec, const jobs::JobResult& result, const std::string& command_line, OutputFile& file) {
  const JobOptions& o = spec.options;
  const std::string backend(result.ran.backend);
  json m = {{"schema_version", kManifestSchemaVersion},
            {"tool", "artabpfn"},
            {"version", ARTABPFN_VERSION},
            {"git_commit", ARTABPFN_GIT_COMMIT},
            {"job", spec.job},
            {"command", command_line},
            {"weights", file_entry(o.weights)},
            {"backend", backend},
            {"attention", result.ran.attention.empty() ? json(nullptr) : json(result.ran.attention)},
            {"precision", result.ran.precision},
            {"environment", environment_description(backend)},
            {"output", file_entry(o.out)}};
  if (!o.inputs.empty()) m["inputs"] = file_entry(o.inputs);
  else m["inputs"] = {{"context_csv", file_entry(o.context_csv)}, {"targets_csv", file_entry(o.targets_csv)}};
  m["n_heads"] = o.n_heads ? json(*o.n_heads) : json(nullptr);
  if (spec.job == "sample") {
    m["seed"] = spec.seed;
    m["samples"] = spec.samples;
    m["random_stream"] = random_stream::kLayoutName;
  }
  file.write(m.dump(2) + "\n");
}

RecordedJob read_manifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("cannot open manifest '{}'", path));
  try {
    const json m = json::parse(in);
    if (m.at("schema_version").get<int>() != kManifestSchemaVersion)
      throw InputError(fmt::format("{}: schema_version {} is not {}", path, m.at("schema_version").dump(),
                                   kManifestSchemaVersion));
    RecordedJob recorded;
    JobSpec& spec = recorded.spec;
    spec.job = m.at("job").get<std::string>();
    if (spec.job != "density" && spec.job != "sample")
      throw InputError(fmt::format("{}: job '{}' is neither density nor sample", path, spec.job));
    JobOptions& o = spec.options;
    o.weights = checked_path(m.at("weights"), "weights");
    const json& inputs = m.at("inputs");
    if (inputs.contains("path")) {
      o.inputs = checked_path(inputs, "inputs");
    } else {
      o.context_csv = checked_path(inputs.at("context_csv"), "context CSV");
      o.targets_csv = checked_path(inputs.at("targets_csv"), "targets CSV");
    }
    o.backend = m.at("backend").get<std::string>();
    o.precision = m.at("precision").get<std::string>();
    if (o.backend == "cuda") o.attention = m.at("attention").get<std::string>();  // no attention modes elsewhere
    if (!m.at("n_heads").is_null()) o.n_heads = m.at("n_heads").get<int>();
    if (spec.job == "sample") {
      spec.seed = m.at("seed").get<std::uint64_t>();
      spec.samples = m.at("samples").get<std::int64_t>();
      if (m.at("random_stream").get<std::string>() != random_stream::kLayoutName)
        throw InputError(fmt::format("{}: random stream '{}' is not this build's '{}'", path,
                                     m.at("random_stream").get<std::string>(), random_stream::kLayoutName));
    }
    recorded.output = m.at("output").at("path").get<std::string>();
    recorded.output_sha256 = m.at("output").at("sha256").get<std::string>();
    recorded.environment = m.at("environment").get<std::string>();
    return recorded;
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not a valid manifest: {}", path, e.what()));
  }
}

}  // namespace artabpfn::cli
