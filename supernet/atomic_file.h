#pragma once

#include <cstddef>
#include <span>
#include <string>

// Files that are either entirely the old version or entirely the new one, whatever happens
// during the write (an exception, SIGKILL, a full disk, a power cut after commit returned).
// Weight files and checkpoints are written through this, so an interrupted run never leaves a
// half-written file under the name the next run will read.
namespace ofa {

// Streams into a temporary file `<path>.tmp.<pid>.<n>` in the destination's directory (the
// same filesystem, so the final rename is atomic). commit() makes the data durable (fsync)
// and then renames it over `path` and syncs the directory so the rename itself survives a
// crash. Until the rename, the file under `path` is never touched. Destroying the writer
// without commit(), or any failure, removes the temporary. A process killed mid-write leaves
// its temporary behind (nothing can run to remove it) but never a damaged `path`.
//
// Every failure throws ofa::Error naming the destination and giving strerror, e.g.
// "writing /runs/a/ckpt.safetensors: cannot write the temporary file ...: No space left on device".
// After a failure the writer is spent: further calls throw.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  // Unbuffered: each call is one write(2) loop, so callers should pass large pieces.
  void write(std::span<const std::byte> data);
  void commit();

  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail_and_discard(const std::string& what, int error_number);
  void sync_directory() const;
  void discard() noexcept;
  void check_open(std::string_view operation) const;

  std::string path_;
  std::string temporary_path_;
  int fd_ = -1;
  bool committed_ = false;
};

void write_file_atomically(const std::string& path, std::span<const std::byte> data);

// For commands that work long before they write: throws ofa::Error starting with `what` (e.g.
// "--out model.onnx") unless `path` names a file in an existing, writable directory, so a bad
// destination is refused before the work instead of after it.
void check_file_destination(const std::string& path, const std::string& what);

}  // namespace ofa
