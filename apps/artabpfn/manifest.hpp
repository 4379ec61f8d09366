#pragma once
// Reproducibility manifests: `density` and `sample` write OUT.manifest.json next to their output
// (schema below), from which `artabpfn replay` reruns the job and compares the result with the
// recorded output, bit for bit on the same GPU model and software.
//   schema_version, tool, version, git_commit, job, command,
//   weights {path, sha256}, inputs {path | context_csv + targets_csv, sha256...}, n_heads,
//   seed, samples, random_stream, backend, attention (null off the cuda backend), precision,
//   environment, output {path, sha256}
#include <string>

#include "job.hpp"
#include "output_file.hpp"

namespace artabpfn::cli {

inline constexpr int kManifestSchemaVersion = 1;

std::string manifest_path_for(const std::string& output);
// Records the run, whose output spec.options.out is written and committed.
void write_manifest(const JobSpec& spec, const jobs::JobResult& result, const std::string& command_line, OutputFile& file);

struct RecordedJob {
  JobSpec spec;                 // options.out is empty: replay decides where a rerun goes
  std::string output, output_sha256;  // the recorded output file and its checksum then
  std::string environment;
};

// Reads a manifest and checks that the recorded weights and inputs still have their checksums
// (InputError naming a file that changed or is malformed).
RecordedJob read_manifest(const std::string& path);

// The environment a result depends on: backend, GPU, version and commit.
std::string environment_description(const std::string& backend);

}  // namespace artabpfn::cli
