// artabpfn: joint sampling and joint densities of autoregressive TabPFN, and their verification.
#include <cstdio>
#include <exception>

#include "artabpfn/error.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"artabpfn: joint samples and joint log densities of autoregressive TabPFN"};
  app.require_subcommand(1);
  artabpfn::cli::add_demo_command(app);
  artabpfn::cli::add_density_command(app);
  artabpfn::cli::add_sample_command(app);
  artabpfn::cli::add_vectors_command(app);
  artabpfn::cli::add_check_command(app);
  artabpfn::cli::add_replay_command(app);
  artabpfn::cli::add_verify_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const artabpfn::InputError& e) {
    std::fprintf(stderr, "artabpfn: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "artabpfn: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
