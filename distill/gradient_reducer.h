#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/collectives/gradient_transport.h"
#include "supernet/gradient_hook.h"
#include "supernet/parameter.h"

// Sums a data-parallel step's parameter gradients over the job's ranks. Only what the step's
// subnets wrote travels: per parameter, the smallest prefix holding every extent its backward
// passes reported (GradientExtent). Everything outside stays zero on every rank (zero_grad, and no
// subnet wrote it), so it needs no reduction, and skipped blocks cost nothing.
//
// The extents are packed into flat buckets. During the step's last backward pass a parameter's
// gradient is final as soon as its layer reports, so a bucket is handed to the transport whenever
// the layers finished so far fill `bucket_bytes`: on a GPU the all-reduce of the head's bucket runs
// while the blocks are still being differentiated. finish_step() packs what is left (including
// gradients only earlier subnets of the step touched), waits for every bucket and writes the sums
// back. Every rank samples the same subnets, so the buckets are the same on every rank.
namespace ofa {

class GradientReducer final : public GradientHook {
 public:
  // bucket_bytes: SIZE_MAX makes one flat buffer per step.
  GradientReducer(ParameterList& parameters, GradientTransport& transport, std::size_t bucket_bytes);

  void begin_step(std::int64_t global_step);
  // The hook for the step's next backward pass; `last`: no other backward of this step follows.
  GradientHook* backward_hook(bool last);
  void layer_finished(std::span<const GradientExtent> gradients) override;
  void finish_step();

  // What the last step sent: bytes of gradient and buckets.
  std::int64_t reduced_bytes() const { return reduced_bytes_; }
  std::int64_t buckets() const { return static_cast<std::int64_t>(buckets_.size()); }

 private:
  struct Bucket {
    std::vector<GradientExtent> entries;
    std::int64_t elements = 0;
    Tensor buffer;
  };

  void add_to_bucket(std::size_t parameter);
  void send_open_bucket();

  ParameterList& parameters_;
  GradientTransport& transport_;
  std::size_t bucket_bytes_;
  std::string what_;
  std::vector<Shape> touched_;  // per parameter: the union prefix this step, rank 0 when untouched
  std::vector<bool> sent_;      // per parameter: already in a bucket this step
  bool last_backward_ = false;
  Bucket open_;
  std::vector<Bucket> buckets_;
  std::int64_t reduced_bytes_ = 0;
};

}  // namespace ofa
