// The host's side of the ranks: what the runner needs beyond the plugin API (ranks.hpp). The MPI
// implementation lives in the othrun executable (framework/app/mpi_ranks.cpp), so that neither
// libothrun nor a plugin links MPI.
#pragma once

#include <othrun/ranks.hpp>

namespace othrun {

class HostRanks : public Ranks {
 public:
  // Ranks on this machine: the default thread count divides the cores among them.
  virtual int local_size() const = 0;
  // Ends every rank's process with `exit_code`: what a rank does when it cannot go on and the
  // others may be waiting for it inside a step.
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

class OneProcess : public HostRanks {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_size() const override { return 1; }
  std::vector<std::vector<char>> gather(std::span<const char> mine) override {
    return one_.gather(mine);
  }
  std::vector<char> broadcast(std::span<const char> bytes) override {
    return one_.broadcast(bytes);
  }
  [[noreturn]] void abort(int exit_code) override;

 private:
  SingleRank one_;
};

// Whether every rank passed `ok` = true (collective).
bool all_ranks_ok(Ranks& ranks, bool ok);

}  // namespace othrun
