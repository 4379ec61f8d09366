#pragma once
// Writing results without losing anything: an output goes to a temporary file in its destination's
// folder, created before any long work (so that an unwritable destination fails at once), and is
// renamed over the destination only once every byte is written; every write error is reported
// (InputError, exit status 2). An empty path means standard output.
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace artabpfn::cli {

class OutputFile {
 public:
  explicit OutputFile(std::filesystem::path path);
  ~OutputFile();  // removes the temporary file unless committed
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(std::string_view bytes);
  // Flushes, syncs and renames the temporary file over the destination (or flushes stdout).
  void commit();

 private:
  [[noreturn]] void fail(const std::string& what) const;

  std::filesystem::path path_, temporary_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

enum class OutputFormat { kCsv, kSafetensors };

// By extension: .csv or .safetensors (an empty path, standard output, is CSV); anything else is
// refused. `option` names the option in the message.
OutputFormat output_format(const std::filesystem::path& path, const std::string& option);

// Refuses (InputError) an output that is the same file as one of `inputs` (links and relative
// paths resolved); empty entries are skipped.
void refuse_overwriting_inputs(const std::filesystem::path& output, const std::vector<std::string>& inputs,
                               const std::string& option);

// A folder that reports or vectors go to: created when missing; InputError when it is a file or
// cannot be created or written.
void prepare_output_folder(const std::filesystem::path& folder, const std::string& option);

}  // namespace artabpfn::cli
