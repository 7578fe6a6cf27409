// libofa_mpi.so: MPI behind the C interface of mpi_plugin_api.h (see there for why a plugin).
#include <mpi.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "kernels/collectives/mpi_plugin_api.h"

struct OfaMpiRequest {
  MPI_Request request = MPI_REQUEST_NULL;
};

namespace {

MPI_Comm data_comm = MPI_COMM_NULL;
MPI_Comm error_comm = MPI_COMM_NULL;

int report(int code, const char* doing, char* error, size_t error_size) {
  if (code == MPI_SUCCESS) return 0;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  std::snprintf(error, error_size, "%s failed: %s", doing, text);
  return 1;
}

int fits_int(long long count, const char* doing, char* error, size_t error_size) {
  if (count >= 0 && count <= INT_MAX) return 0;
  std::snprintf(error, error_size, "%s: %lld elements, MPI takes at most %d per call", doing, count, INT_MAX);
  return 1;
}

int start(int code, OfaMpiRequest* request, OfaMpiRequestHandle* handle, const char* doing, char* error,
          size_t error_size) {
  if (report(code, doing, error, error_size) != 0) {
    delete request;
    return 1;
  }
  *handle = request;
  return 0;
}

int init(int* rank, int* size, char* error, size_t error_size) {
  int provided = 0;
  if (report(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread", error,
             error_size) != 0)
    return 1;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  if (report(MPI_Comm_dup(MPI_COMM_WORLD, &data_comm), "MPI_Comm_dup", error, error_size) != 0 ||
      report(MPI_Comm_dup(MPI_COMM_WORLD, &error_comm), "MPI_Comm_dup", error, error_size) != 0)
    return 1;
  MPI_Comm_set_errhandler(data_comm, MPI_ERRORS_RETURN);
  MPI_Comm_set_errhandler(error_comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(data_comm, rank);
  MPI_Comm_size(data_comm, size);
  return 0;
}

int start_allreduce_sum(OfaMpiType type, void* values, long long count, OfaMpiRequestHandle* handle, char* error,
                        size_t error_size) {
  if (fits_int(count, "MPI_Iallreduce", error, error_size) != 0) return 1;
  auto* request = new OfaMpiRequest;
  const MPI_Datatype datatype = type == OFA_MPI_DOUBLE ? MPI_DOUBLE : MPI_FLOAT;
  return start(MPI_Iallreduce(MPI_IN_PLACE, values, static_cast<int>(count), datatype, MPI_SUM, data_comm,
                              &request->request),
               request, handle, "MPI_Iallreduce", error, error_size);
}

int start_allgather(const void* mine, long long bytes, void* all, OfaMpiRequestHandle* handle, char* error,
                    size_t error_size) {
  if (fits_int(bytes, "MPI_Iallgather", error, error_size) != 0) return 1;
  auto* request = new OfaMpiRequest;
  const int n = static_cast<int>(bytes);
  return start(MPI_Iallgather(mine, n, MPI_BYTE, all, n, MPI_BYTE, data_comm, &request->request), request, handle,
               "MPI_Iallgather", error, error_size);
}

int start_broadcast(void* bytes, long long count, int root, OfaMpiRequestHandle* handle, char* error,
                    size_t error_size) {
  if (fits_int(count, "MPI_Ibcast", error, error_size) != 0) return 1;
  auto* request = new OfaMpiRequest;
  return start(MPI_Ibcast(bytes, static_cast<int>(count), MPI_BYTE, root, data_comm, &request->request), request,
               handle, "MPI_Ibcast", error, error_size);
}

int start_error_barrier(OfaMpiRequestHandle* handle, char* error, size_t error_size) {
  auto* request = new OfaMpiRequest;
  return start(MPI_Ibarrier(error_comm, &request->request), request, handle, "MPI_Ibarrier", error, error_size);
}

int test(OfaMpiRequestHandle request, int* done, char* error, size_t error_size) {
  *done = 0;
  if (report(MPI_Test(&request->request, done, MPI_STATUS_IGNORE), "MPI_Test", error, error_size) != 0) return 1;
  if (*done != 0) delete request;
  return 0;
}

int finalize(char* error, size_t error_size) {
  MPI_Comm_free(&data_comm);
  MPI_Comm_free(&error_comm);
  return report(MPI_Finalize(), "MPI_Finalize", error, error_size);
}

void abort_job(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);  // MPI_Abort does not return; this keeps the promise if an MPI's does
}

const OfaMpiPlugin plugin = {OFA_MPI_PLUGIN_VERSION, init,  start_allreduce_sum, start_allgather, start_broadcast,
                             start_error_barrier,    test,  finalize,            abort_job};

}  // namespace

extern "C" __attribute__((visibility("default"))) const OfaMpiPlugin* ofa_mpi_plugin(void) { return &plugin; }
