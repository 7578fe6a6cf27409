#include "kernels/collectives/launch_environment.h"

#include <cstdlib>

namespace ofa {

std::optional<LaunchEnvironment> mpi_launch_environment() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return LaunchEnvironment{name, value};
  if (const char* tasks = std::getenv("SLURM_STEP_NUM_TASKS"); tasks != nullptr && std::atoi(tasks) > 1)
    return LaunchEnvironment{"SLURM_STEP_NUM_TASKS", tasks};
  return std::nullopt;
}

int local_rank() {
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') return std::atoi(value);
  return 0;
}

}  // namespace ofa
