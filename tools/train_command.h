#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "distill/run_evaluation.h"
#include "distill/trainer.h"
#include "kernels/device_choice.h"
#include "kernels/collectives/communicator.h"

// `ofa train` and `ofa eval`. Header-only like info_command.h: included by ofa_main.cpp alone.
namespace ofa {

// Kept as text and parsed when the command runs (parse_device), so a bad value gets the same
// one-line `ofa: error:` as every other bad input.
inline void add_device_option(CLI::App& command, std::string& device) {
  command.add_option("--device", device, "cpu, or cuda (cuda:0): the GPU, or the CUDA emulation where there is none")
      ->capture_default_str();
}

class TrainCommand {
 public:
  explicit TrainCommand(CLI::App& app)
      : command_(app.add_subcommand("train", "Train a supernet with a recipe (progressive shrinking by default)")) {
    command_->add_option("--space", options_.space, "A shipped search space or a search-space JSON file")
        ->capture_default_str();
    command_->add_option("--data", options_.data, "fashion-mnist | cifar10:DIR | cifar100:DIR | folder:DIR")
        ->capture_default_str();
    command_->add_option("--recipe", options_.recipe, "ps | sandwich | demo, or a recipe JSON file")
        ->capture_default_str();
    command_->add_option("--out", options_.out, "Run directory (checkpoints, metrics.jsonl, final weights)")
        ->required();
    command_->add_flag("--resume", options_.resume, "Continue the run in --out from its last checkpoint");
    command_->add_option("--threads", options_.threads, "Compute threads")->capture_default_str()->check(CLI::PositiveNumber);
    command_->add_option("--loader-threads", options_.loader_workers, "Data loading threads")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command_->add_option("--seed", options_.seed, "Decides initialisation, data order, augmentation and sampling")
        ->capture_default_str();
    add_device_option(*command_, device_);
    command_->add_option("--micro-batches", options_.micro_batches,
                         "Split this process's part of each batch into N micro-batches run one after another "
                         "(less memory; the same gradients as N times the processes)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command_->add_flag("--sync-bn", options_.sync_batch_norm,
                       "Under mpirun/srun: batch norm statistics over the whole global batch instead of per process");
    command_->add_option("--collective-timeout", timeout_seconds_,
                         "Under mpirun/srun: seconds a process waits for the others before stopping the job")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command_->footer(
        "Data parallelism: `mpirun -np N ofa train ...` (or srun) runs N processes, each on 1/N of every batch of "
        "the recipe's size; rank 0 writes the run directory, which every rank must see to --resume.");
  }
  TrainCommand(const TrainCommand&) = delete;
  TrainCommand& operator=(const TrainCommand&) = delete;

  bool parsed() const { return command_->parsed(); }
  // A process started by mpirun or srun joins its job (kernels/collectives/communicator.h); on an
  // error it reports with its rank and leaves the job so that no other rank waits for it.
  int run() {
    options_.device = parse_device(device_, "--device");
    const std::unique_ptr<Communicator> job = connect_processes(timeout_seconds_);
    try {
      const nlohmann::json results = train(options_, *job);
      if (job->rank() == 0) std::printf("%s\n", results.dump(2).c_str());
      return 0;
    } catch (const Error& e) {
      if (job->size() == 1) throw;
      std::fprintf(stderr, "ofa: error (rank %d of %d): %s\n", job->rank(), job->size(), e.what());
      job->shut_down_after_error(dynamic_cast<const CollectiveFailure*>(&e) != nullptr);
      return 1;
    }
  }

 private:
  CLI::App* command_;
  TrainOptions options_;
  std::string device_ = "cpu";
  double timeout_seconds_ = kDefaultCollectiveTimeoutSeconds;
};

class EvalCommand {
 public:
  explicit EvalCommand(CLI::App& app)
      : command_(app.add_subcommand("eval", "Accuracy of a subnet of a trained run after BN recalibration, as JSON")) {
    command_->add_option("--run", options_.run, "A run directory of ofa train");
    command_->add_option("--weights", options_.weights, "A supernet or extracted-subnet .safetensors file");
    command_->add_option("--subnet", options_.subnet, "max, min or a subnet JSON file")->capture_default_str();
    command_->add_option("--split", options_.split, "valid or test")->capture_default_str();
    command_->add_option("--data", options_.data, "With --weights: the dataset")->capture_default_str();
    command_->add_option("--seed", options_.seed, "With --weights: the seed of the validation split")
        ->capture_default_str();
    command_->add_option("--calibration-images", options_.calibration_images, "Images for BN recalibration")
        ->capture_default_str();
    command_->add_option("--threads", options_.threads, "Compute threads")->capture_default_str()->check(CLI::PositiveNumber);
    add_device_option(*command_, device_);
  }
  EvalCommand(const EvalCommand&) = delete;
  EvalCommand& operator=(const EvalCommand&) = delete;

  bool parsed() const { return command_->parsed(); }
  int run() {
    options_.device = parse_device(device_, "--device");
    // stderr: stdout is the JSON result.
    if (options_.device != Device::cpu) std::fprintf(stderr, "device: %s\n", describe_device(options_.device).c_str());
    std::printf("%s\n", evaluate_run(options_).dump(2).c_str());
    return 0;
  }

 private:
  CLI::App* command_;
  EvalOptions options_;
  std::string device_ = "cpu";
};

}  // namespace ofa
