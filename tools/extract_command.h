#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "search/run_search.h"

// `ofa extract`. Header-only like info_command.h: included by ofa_main.cpp alone.
namespace ofa {

class ExtractCommand {
 public:
  explicit ExtractCommand(CLI::App& app)
      : command_(app.add_subcommand("extract",
                                    "Write one subnet of a trained run as a standalone weight file, "
                                    "BN statistics recalibrated")) {
    command_->add_option("--run", options_.run, "A run directory of ofa train")->required();
    command_->add_option("--subnet", options_.subnet, "max, min or a subnet JSON file ({\"ks\", \"e\", \"d\", \"r\"})")
        ->capture_default_str();
    command_->add_option("--out", options_.out, "The .safetensors file to write (atomically)")->required();
    command_->add_option("--onnx", options_.onnx,
                         "Also write an ONNX model (opset 14; input 'images' NCHW [batch, C, R, R], normalised; "
                         "output 'logits')");
    command_->add_option("--threads", options_.threads, "Compute threads")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
  }
  ExtractCommand(const ExtractCommand&) = delete;
  ExtractCommand& operator=(const ExtractCommand&) = delete;

  bool parsed() const { return command_->parsed(); }
  int run() const {
    std::printf("%s\n", run_extract(options_).dump(2).c_str());
    return 0;
  }

 private:
  CLI::App* command_;
  ExtractOptions options_;
};

}  // namespace ofa
