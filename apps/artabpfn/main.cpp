// artabpfn: joint sampling and joint densities of autoregressive TabPFN, and their verification.
//
// Exit status: 0 success; 1 a verification failure or a replay difference; 2 any usage or input
// error (a parser error, a bad file, an output that cannot be written), with a message naming
// what is wrong; 3 an unexpected exception, which is a bug.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "artabpfn/error.hpp"
#include "commands.hpp"
#include "usage_errors.hpp"
#if ARTABPFN_HAS_ENGINE
#include "jobs/cuda_backend.hpp"
#endif

namespace {

constexpr int kUsageError = 2;

std::string version_text() {
#if ARTABPFN_HAS_ENGINE
  const std::string cuda = artabpfn::jobs::cuda_versions();
#else
  const std::string cuda = "built without CUDA";
#endif
  return fmt::format("artabpfn {} (commit {}), {}", ARTABPFN_VERSION, ARTABPFN_GIT_COMMIT, cuda);
}

int usage_error(const std::string& message, const CLI::App* command) {
  std::fprintf(stderr, "artabpfn: error: %s\n", message.c_str());
  const std::string help = command ? "artabpfn " + command->get_name() + " --help" : "artabpfn --help";
  std::fprintf(stderr, "Run '%s' for the %s.\n", help.c_str(), command ? "options" : "commands");
  return kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"artabpfn: joint samples and joint log densities of autoregressive TabPFN", "artabpfn"};
  app.option_defaults()->always_capture_default();  // help shows each option's default
  app.set_version_flag("--version", version_text, "print the version, commit and CUDA runtime, and exit");
  app.require_subcommand(1);
  app.footer("Exit status: 0 success; 1 a verification failure or a replay difference; 2 a usage or input error; "
             "3 a bug (please report it).");
  artabpfn::cli::add_demo_command(app);
  artabpfn::cli::add_density_command(app);
  artabpfn::cli::add_sample_command(app);
  artabpfn::cli::add_vectors_command(app);
  artabpfn::cli::add_check_command(app);
  artabpfn::cli::add_replay_command(app);
  artabpfn::cli::add_verify_command(app);

  const std::vector<std::string> args(argv + 1, argv + argc);
  const CLI::App* command = artabpfn::cli::named_command(app, args);
  if (args.empty()) {  // no command: what there is to run
    std::fputs(app.help().c_str(), stdout);
    return kUsageError;
  }
  if (const auto unknown = artabpfn::cli::unknown_name(app, args)) return usage_error(*unknown, command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // a command's failure status (1), its report already printed
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what(), command);
  } catch (const artabpfn::InputError& e) {
    std::fprintf(stderr, "artabpfn: error: %s\n", e.what());
    return kUsageError;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "artabpfn: internal error (a bug; please report it): %s\n", e.what());
    return 3;
  }
  return 0;
}
