// The NCCL path of the data-parallel gradient all-reduce on two GPUs (ctest label gpu): the NCCL
// transport sums device buffers over two ranks, and the gradient reducer, with buckets small
// enough to start during the "backward", sums exactly the reported prefixes of device gradients
// and leaves the rest zero. Started by ctest, it relaunches itself under `mpirun -np 2`; with
// fewer than two GPUs or without mpirun it prints why and exits 77, which ctest counts as skipped.
#include <cuda_runtime.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "distill/gradient_reducer.h"
#include "kernels/collectives/communicator.h"
#include "kernels/collectives/gradient_transport.h"
#include "kernels/collectives/launch_environment.h"
#include "kernels/cuda/backend.h"

namespace {

constexpr int kSkip = 77;

int failures = 0;

void expect(bool condition, const std::string& what) {
  if (condition) return;
  ++failures;
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
}

ofa::Tensor device_tensor(const std::vector<float>& values, const ofa::Shape& shape) {
  ofa::Tensor host = ofa::Tensor::empty(shape);
  for (std::size_t i = 0; i < values.size(); ++i) host.f32()[i] = values[i];
  return host.to(ofa::Device::cuda);
}

// Rank r's buffer holds (r + 1) * (i mod 7): the sum over two ranks is 3 * (i mod 7).
void check_transport(ofa::Communicator& job) {
  const std::unique_ptr<ofa::GradientTransport> transport = ofa::make_gradient_transport(job, ofa::Device::cuda);
  std::vector<ofa::Tensor> buffers;
  for (const std::int64_t n : {std::int64_t{3}, std::int64_t{1} << 20}) {
    std::vector<float> values(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = float((job.rank() + 1) * (i % 7));
    buffers.push_back(device_tensor(values, {n}));
    transport->start(buffers.back(), "the test all-reduce");
  }
  transport->finish();
  for (const ofa::Tensor& buffer : buffers) {
    const ofa::Tensor host = buffer.to(ofa::Device::cpu);
    bool right = true;
    for (std::int64_t i = 0; i < host.numel(); ++i) right = right && host.f32()[i] == float(3 * (i % 7));
    expect(right, ofa::concat("NCCL sum of a buffer of ", host.numel(), " floats"));
  }
}

// Device gradients with reported prefixes: after the step, inside them the sum of both ranks,
// outside zero.
void check_reducer(ofa::Communicator& job) {
  const std::unique_ptr<ofa::GradientTransport> transport = ofa::make_gradient_transport(job, ofa::Device::cuda);
  ofa::ParameterList list;
  const std::vector<ofa::Shape> shapes = {{64, 48}, {96}, {7, 7, 120}, {1000, 1280}};
  const std::vector<ofa::Shape> extents = {{40, 48}, {96}, {7, 7, 72}, {1000, 1280}};
  for (std::size_t p = 0; p < shapes.size(); ++p) {
    ofa::Tensor grad = ofa::Tensor::zeros(shapes[p], ofa::DType::f32, ofa::Device::cuda);
    std::vector<float> values(static_cast<std::size_t>(extents[p].numel()), float(job.rank() + 1));
    grad.prefix(extents[p]).copy_from(device_tensor(values, extents[p]));
    list.parameters.push_back({ofa::concat("p", p), grad, grad, true});
  }
  ofa::GradientReducer reducer(list, *transport, 64 << 10);
  reducer.begin_step(1);
  ofa::GradientHook* hook = reducer.backward_hook(true);
  for (std::size_t p = shapes.size(); p-- > 0;) {
    const ofa::GradientExtent layer[] = {{p, extents[p]}};
    hook->layer_finished(layer);
  }
  reducer.finish_step();
  expect(reducer.buckets() > 1, "several buckets");
  for (std::size_t p = 0; p < shapes.size(); ++p) {
    const ofa::Tensor host = list.parameters[p].grad.to(ofa::Device::cpu);
    const ofa::Tensor inside = host.prefix(extents[p]).clone();
    bool right = true;
    for (std::int64_t i = 0; i < inside.numel(); ++i) right = right && inside.f32()[i] == 3.0f;
    double total = 0;
    for (std::int64_t i = 0; i < host.numel(); ++i) total += host.f32()[i];
    expect(right && total == 3.0 * double(inside.numel()), ofa::concat("reduced prefix of gradient ", p));
  }
}

int relaunch_under_mpirun(const char* self) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 2) {
    std::printf("SKIP: the NCCL test needs 2 GPUs, this machine has %d\n", devices);
    return kSkip;
  }
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) {
    std::printf("SKIP: mpirun not found; install Open MPI (openmpi-bin, tools/scripts/install-deps.sh)\n");
    return kSkip;
  }
  const std::string command = std::string("mpirun -np 2 ") + (geteuid() == 0 ? "--allow-run-as-root " : "") + self;
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int, char** argv) {
  if (!ofa::mpi_launch_environment()) return relaunch_under_mpirun(argv[0]);
  try {
    const std::unique_ptr<ofa::Communicator> job = ofa::connect_processes(60);
    expect(std::string(ofa::cuda::active_backend().name) == "gpu", "the GPU backend is active");
    check_transport(*job);
    check_reducer(*job);
  } catch (const ofa::Error& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
  if (failures == 0) std::printf("PASS: NCCL gradient all-reduce on 2 GPUs\n");
  return failures == 0 ? 0 : 1;
}
