#pragma once
// A fresh scratch directory for one test, removed with everything in it when the object dies.
#include <filesystem>
#include <string>


namespace artabpfn::test_support {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace artabpfn::test_support
