#pragma once

#include <optional>
#include <string>

// Whether this process was started by an MPI launcher, read from the variables launchers set:
// OMPI_COMM_WORLD_SIZE (Open MPI's mpirun), PMI_SIZE (MPICH's hydra, srun --mpi=pmi2), PMIX_RANK
// (srun --mpi=pmix, PRRTE) and SLURM_STEP_NUM_TASKS above 1 (an srun step of several tasks; a
// one-task step may be a shell that runs ofa by hand). A plain `ofa train`, also inside an sbatch
// script outside srun, is a job of one and never touches MPI.
namespace ofa {

struct LaunchEnvironment {
  std::string launcher;  // the variable that gave it away
  std::string value;
};

// The launcher's variable, or nothing for a process started on its own. mpirun -np 1 still
// counts: the job is real, it has one rank.
std::optional<LaunchEnvironment> mpi_launch_environment();

// This process's index among the job's processes on its node (OMPI_COMM_WORLD_LOCAL_RANK,
// MPI_LOCALRANKID, SLURM_LOCALID), 0 when no launcher says: which GPU of the node it takes.
int local_rank();

}  // namespace ofa
