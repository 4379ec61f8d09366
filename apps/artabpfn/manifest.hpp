#pragma once
// Reproducibility manifests: `density` and `sample` write OUT.manifest.json next to their output
// (schema below), from which `artabpfn replay` reproduces the output bit for bit on the same GPU
// model and software.
//   schema_version, tool, version, git_commit, job, command,
//   weights {path, sha256}, inputs {path | context_csv + targets_csv, sha256...}, n_heads,
//   seed, samples, random_stream, backend, attention, precision, gpu, output {path, sha256}
#include <string>

#include "job.hpp"

namespace artabpfn::cli {

inline constexpr int kManifestSchemaVersion = 1;

std::string manifest_path_for(const std::string& output);
void write_manifest(const JobSpec& spec, const JobResult& result, const std::string& command_line);

// Reads a manifest, checks the recorded files' checksums (InputError naming a mismatch), and
// returns the job with output redirected to `output`.
JobSpec read_manifest(const std::string& path, const std::string& output, std::string& recorded_output_sha256,
                      std::string& recorded_environment);

// The environment a result depends on: backend, GPU, version and commit.
std::string environment_description(const std::string& backend);

}  // namespace artabpfn::cli
