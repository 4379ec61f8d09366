#include "output_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "artabpfn/error.hpp"

namespace artabpfn::cli {
namespace {

std::string system_error_text() { return std::strerror(errno); }

// The permissions a newly created file gets (0666 less the umask), which mkstemp's 0600 is not.
mode_t default_file_mode() {
  const mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code error;
  if (std::filesystem::exists(a, error) && std::filesystem::exists(b, error))
    return std::filesystem::equivalent(a, b, error);
  return std::filesystem::weakly_canonical(a, error) == std::filesystem::weakly_canonical(b, error);
}

}  // namespace

OutputFile::OutputFile(std::filesystem::path path) : path_(std::move(path)) {
  if (path_.empty()) {
    file_ = stdout;
    return;
  }
  std::error_code error;
  if (std::filesystem::is_directory(path_, error)) fail("it is a folder");
  if (std::filesystem::exists(path_, error) && access(path_.c_str(), W_OK) != 0) fail("it is not writable");
  const std::filesystem::path folder = path_.has_parent_path() ? path_.parent_path() : ".";
  std::string name = (folder / fmt::format(".{}.XXXXXX", path_.filename().string())).string();
  const int fd = mkstemp(name.data());
  if (fd < 0) fail(fmt::format("cannot create a file in '{}': {}", folder.string(), system_error_text()));
  temporary_ = name;
  if (fchmod(fd, default_file_mode()) != 0 || !(file_ = fdopen(fd, "wb"))) {
    const std::string reason = system_error_text();
    close(fd);
    fail(reason);
  }
}

OutputFile::~OutputFile() {
  if (temporary_.empty() || committed_) return;
  if (file_) std::fclose(file_);
  std::error_code ignored;
  std::filesystem::remove(temporary_, ignored);
}

void OutputFile::fail(const std::string& what) const {
  throw InputError(fmt::format("cannot write '{}': {}", path_.empty() ? "standard output" : path_.string(), what));
}

void OutputFile::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) fail(system_error_text());
}

void OutputFile::commit() {
  if (std::fflush(file_) != 0 || std::ferror(file_)) fail(system_error_text());
  if (temporary_.empty()) return;  // standard output
  if (fsync(fileno(file_)) != 0) fail(system_error_text());
  if (std::fclose(std::exchange(file_, nullptr)) != 0) fail(system_error_text());
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) fail(system_error_text());
  committed_ = true;
}

OutputFormat output_format(const std::filesystem::path& path, const std::string& option) {
  if (path.empty() || path.extension() == ".csv") return OutputFormat::kCsv;
  if (path.extension() == ".safetensors") return OutputFormat::kSafetensors;
  throw InputError(fmt::format("{} '{}': the name must end in .csv or .safetensors (it says which format to write)",
                               option, path.string()));
}

void refuse_overwriting_inputs(const std::filesystem::path& output, const std::vector<std::string>& inputs,
                               const std::string& option) {
  for (const std::string& input : inputs)
    if (!input.empty() && same_file(output, input))
      throw InputError(fmt::format("{} '{}' is the input '{}': refusing to overwrite an input", option,
                                   output.string(), input));
}

void prepare_output_folder(const std::filesystem::path& folder, const std::string& option) {
  std::error_code error;
  if (std::filesystem::exists(folder, error) && !std::filesystem::is_directory(folder, error))
    throw InputError(fmt::format("{} '{}' is a file, not a folder", option, folder.string()));
  std::filesystem::create_directories(folder, error);
  if (error) throw InputError(fmt::format("{} '{}': cannot create the folder: {}", option, folder.string(), error.message()));
  if (access(folder.c_str(), W_OK | X_OK) != 0)
    throw InputError(fmt::format("{} '{}': the folder is not writable", option, folder.string()));
}

}  // namespace artabpfn::cli
