#pragma once

#include <stddef.h>

// The C interface between `ofa` and libofa_mpi.so, the one part of the project that links MPI.
// `ofa` loads the plugin with dlopen only when it was started by an MPI launcher (mpirun, srun),
// so a single-process run needs no MPI library at all. Every collective is non-blocking: `ofa`
// polls it with a deadline (mpi_communicator.cpp), which is how a dead or hung rank becomes an
// error instead of a silent hang.
extern "C" {

#define OFA_MPI_PLUGIN_VERSION 1

typedef struct OfaMpiRequest* OfaMpiRequestHandle;

enum OfaMpiType { OFA_MPI_FLOAT = 0, OFA_MPI_DOUBLE = 1, OFA_MPI_BYTE = 2 };

// Every function returning int returns 0 on success; otherwise it has written a message (MPI's
// error string and what was being done) into `error` (`error_size` bytes, NUL-terminated).
struct OfaMpiPlugin {
  int version;
  // MPI_Init_thread (funneled: only the calling thread uses MPI), errors returned rather than
  // fatal, and two private duplicates of MPI_COMM_WORLD: one for data, one for the error barrier.
  int (*init)(int* rank, int* size, char* error, size_t error_size);
  int (*start_allreduce_sum)(enum OfaMpiType type, void* values, long long count, OfaMpiRequestHandle* request,
                             char* error, size_t error_size);
  // all holds size * bytes; rank r's `mine` lands at all + r * bytes.
  int (*start_allgather)(const void* mine, long long bytes, void* all, OfaMpiRequestHandle* request, char* error,
                         size_t error_size);
  int (*start_broadcast)(void* bytes, long long count, int root, OfaMpiRequestHandle* request, char* error,
                         size_t error_size);
  // A barrier on the error communicator, so it never meets a data collective another rank is in.
  int (*start_error_barrier)(OfaMpiRequestHandle* request, char* error, size_t error_size);
  // Sets *done; a finished request is freed. A pending one is left to the process's end.
  int (*test)(OfaMpiRequestHandle request, int* done, char* error, size_t error_size);
  int (*finalize)(char* error, size_t error_size);
  // MPI_Abort on MPI_COMM_WORLD: the launcher stops every rank. Does not return.
  void (*abort)(int exit_code);
};

// The plugin's one exported symbol.
const struct OfaMpiPlugin* ofa_mpi_plugin(void);
typedef const struct OfaMpiPlugin* (*OfaMpiPluginEntry)(void);
}
