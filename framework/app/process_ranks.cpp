#include "process_ranks.hpp"

#include <othrun/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#ifdef OTHRUN_WITH_MPI
// The C API only: MPI's deprecated C++ bindings would need their own library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace othrun {
namespace {

// What the launchers set in each process they start: Open MPI's mpirun, MPICH's Hydra and Slurm's
// srun (PMI-2 or PMIx).
bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK", "PMIX_RANK"}) {
    if (std::getenv(name)) return true;
  }
  return false;
}

#ifndef OTHRUN_WITH_MPI
int launcher_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"}) {
    if (const char* value = std::getenv(name)) return std::atoi(value);
  }
  return 1;
}
#endif

#ifdef OTHRUN_WITH_MPI
// Messages go in pieces of at most 1 GiB: MPI counts are ints.
constexpr std::size_t kPiece = std::size_t{1} << 30;
constexpr int kTag = 7041;

class MpiRanks : public HostRanks {
 public:
  MpiRanks(int& argc, char**& argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &local_size_);
    MPI_Comm_free(&local);
  }
  ~MpiRanks() override { MPI_Finalize(); }
  MpiRanks(const MpiRanks&) = delete;
  MpiRanks& operator=(const MpiRanks&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_size() const override { return local_size_; }

  std::vector<std::vector<char>> gather(std::span<const char> mine) override {
    std::vector<std::vector<char>> all;
    if (rank_ != 0) {
      send(mine.data(), mine.size());
      return all;
    }
    all.emplace_back(mine.begin(), mine.end());
    for (int source = 1; source < size_; ++source) all.push_back(receive(source));
    return all;
  }

  std::vector<char> broadcast(std::span<const char> bytes) override {
    std::uint64_t size = bytes.size();
    MPI_Bcast(&size, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    std::vector<char> out(size);
    if (rank_ == 0 && size) std::copy(bytes.begin(), bytes.end(), out.begin());
    for (std::size_t done = 0; done < size; done += kPiece) {
      MPI_Bcast(out.data() + done, static_cast<int>(std::min(kPiece, size - done)), MPI_CHAR, 0,
                MPI_COMM_WORLD);
    }
    return out;
  }

  [[noreturn]] void abort(int exit_code) override {
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::exit(exit_code);  // MPI_Abort does not return; this keeps [[noreturn]] honest
  }

 private:
  static void send(const char* data, std::uint64_t size) {
    MPI_Send(&size, 1, MPI_UINT64_T, 0, kTag, MPI_COMM_WORLD);
    for (std::size_t done = 0; done < size; done += kPiece) {
      MPI_Send(data + done, static_cast<int>(std::min(kPiece, size - done)), MPI_CHAR, 0, kTag,
               MPI_COMM_WORLD);
    }
  }
  static std::vector<char> receive(int source) {
    std::uint64_t size = 0;
    MPI_Recv(&size, 1, MPI_UINT64_T, source, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    std::vector<char> out(size);
    for (std::size_t done = 0; done < size; done += kPiece) {
      MPI_Recv(out.data() + done, static_cast<int>(std::min(kPiece, size - done)), MPI_CHAR, source,
               kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    return out;
  }

  int rank_ = 0, size_ = 1, local_size_ = 1;
};
#endif

}  // namespace

std::unique_ptr<HostRanks> start_ranks([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
  if (!started_by_launcher()) return std::make_unique<OneProcess>();
#ifdef OTHRUN_WITH_MPI
  return std::make_unique<MpiRanks>(argc, argv);
#else
  if (launcher_size() > 1) {
    throw Error("started as one of " + std::to_string(launcher_size()) +
                " processes by mpirun or srun, but this othrun was built without MPI "
                "(OTHRUN_MPI=OFF): each process would run the whole experiment. Rebuild with "
                "MPI (scripts/setup.sh installs it) or start one process");
  }
  return std::make_unique<OneProcess>();
#endif
}

}  // namespace othrun
