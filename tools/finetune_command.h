#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "distill/finetune.h"
#include "kernels/error.h"
#include "kernels/threads.h"
#include "search/search_run.h"

// `ofa finetune`. Header-only like info_command.h: included by ofa_main.cpp alone.
namespace ofa {

class FinetuneCommand {
 public:
  explicit FinetuneCommand(CLI::App& app)
      : command_(app.add_subcommand("finetune",
                                    "Train one subnet of a trained run further, with knowledge distillation from "
                                    "the run's largest subnet, and write its standalone weights")) {
    command_->add_option("--run", run_, "A run directory of ofa train")->required();
    command_->add_option("--subnet", subnet_, "max, min or a subnet JSON file ({\"ks\", \"e\", \"d\", \"r\"})")
        ->required();
    // Checked by check_finetune_options, so that 0 gets the same one-line error as the others.
    command_->add_option("--epochs", options_.epochs, "Epochs of the run's recipe (fractions allowed)")->required();
    command_->add_option("--out", options_.out, "The fine-tuned .safetensors file to write (atomically)")->required();
    lr_ = command_->add_option("--lr", options_.lr,
                               "Peak learning rate, annealed to 0 by cosine (default: the peak of the run's last phase)");
    command_->add_option("--kd-ratio", options_.kd_ratio, "Weight of the distillation loss")->capture_default_str();
    command_->add_option("--threads", threads_, "Compute threads")->capture_default_str()->check(CLI::PositiveNumber);
    command_->add_option("--loader-threads", options_.loader_workers, "Data loading threads")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  }
  FinetuneCommand(const FinetuneCommand&) = delete;
  FinetuneCommand& operator=(const FinetuneCommand&) = delete;

  bool parsed() const { return command_->parsed(); }

  // Prints the before/after report as JSON; throws ofa::Error on bad input before any training.
  int run() {
    // Options first, before the run's data is read; options_.lr 0 means "the run's", not given 0.
    OFA_CHECK(lr_->count() == 0 || options_.lr > 0, concat("--lr ", options_.lr), "expected a positive learning rate");
    check_finetune_options(options_);
    set_num_threads(threads_);
    const SearchRun run = open_search_run(run_);
    options_.subnet = load_subnet(subnet_, run.space());
    FinetuneRun finetune_run;
    finetune_run.supernet = run.supernet.get();
    finetune_run.recipe = run.recipe;
    finetune_run.profile = run.profile;
    finetune_run.train = run.train;
    finetune_run.valid = run.valid;
    finetune_run.test = run.test;
    finetune_run.seed = run.seed;
    std::printf("%s\n", finetune_subnet(finetune_run, options_).dump(2).c_str());
    return 0;
  }

 private:
  CLI::App* command_;
  CLI::Option* lr_;
  std::string run_;
  std::string subnet_;
  int threads_ = 2;
  FinetuneOptions options_;
};

}  // namespace ofa
