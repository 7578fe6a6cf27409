#include "supernet/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "kernels/error.h"

namespace ofa {
namespace {

// Two writers in one process may target the same path (e.g. threads saving the same
// checkpoint); the counter keeps their temporaries apart.
std::string temporary_name_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return concat(path, ".tmp.", ::getpid(), ".", counter.fetch_add(1));
}

std::string directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

std::string where(const std::string& path) { return concat("writing ", path); }

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path)
    : path_(std::move(path)), temporary_path_(temporary_name_for(path_)) {
  OFA_CHECK(!path_.empty(), "AtomicFileWriter", "empty path");
  fd_ = ::open(temporary_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) {
    const int error_number = errno;
    fail(where(path_), "cannot create the temporary file ", temporary_path_, ": ", std::strerror(error_number));
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) discard();
}

void AtomicFileWriter::check_open(std::string_view operation) const {
  OFA_CHECK(fd_ >= 0, where(path_), operation, " after the writer was ",
            committed_ ? "committed" : "abandoned because of an earlier error");
}

void AtomicFileWriter::write(std::span<const std::byte> data) {
  check_open("write");
  const std::byte* next = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t written = ::write(fd_, next, left);
    if (written < 0) {
      const int error_number = errno;
      if (error_number == EINTR) continue;
      fail_and_discard(concat("cannot write the temporary file ", temporary_path_), error_number);
    }
    next += written;
    left -= static_cast<std::size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  check_open("commit");
  // Data first, then the name: after a crash the new name must never point at blocks the
  // filesystem had not yet written.
  if (::fsync(fd_) != 0) {
    const int error_number = errno;
    fail_and_discard(concat("cannot flush the temporary file ", temporary_path_), error_number);
  }
  // close() reports deferred write errors on some filesystems (NFS).
  if (::close(std::exchange(fd_, -1)) != 0) {
    const int error_number = errno;
    fail_and_discard(concat("cannot close the temporary file ", temporary_path_), error_number);
  }
  if (::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    const int error_number = errno;
    fail_and_discard(concat("cannot rename the temporary file ", temporary_path_, " to ", path_), error_number);
  }
  committed_ = true;
  sync_directory();
}

// The rename lives in the directory; without this a crash can bring back the old file.
void AtomicFileWriter::sync_directory() const {
  const std::string directory = directory_of(path_);
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    const int error_number = errno;
    fail(where(path_), "written, but cannot open its directory ", directory, ": ", std::strerror(error_number));
  }
  const int synced = ::fsync(dir_fd);
  const int error_number = errno;
  ::close(dir_fd);
  // Some filesystems cannot sync a directory at all (EINVAL); there is nothing more to do there.
  if (synced != 0 && error_number != EINVAL)
    fail(where(path_), "written, but cannot sync its directory ", directory, ": ", std::strerror(error_number));
}

void AtomicFileWriter::fail_and_discard(const std::string& what, int error_number) {
  discard();
  fail(where(path_), what, ": ", std::strerror(error_number));
}

void AtomicFileWriter::discard() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  ::unlink(temporary_path_.c_str());
}

void write_file_atomically(const std::string& path, std::span<const std::byte> data) {
  AtomicFileWriter writer(path);
  writer.write(data);
  writer.commit();
}

void check_file_destination(const std::string& path, const std::string& what) {
  OFA_CHECK(!path.empty(), what, "names no file");
  OFA_CHECK(!std::filesystem::is_directory(path), what, "must name a file, not a directory");
  const std::string directory = directory_of(path);
  OFA_CHECK(std::filesystem::is_directory(directory) && ::access(directory.c_str(), W_OK) == 0, what,
            "the directory '", directory, "' does not exist or is not writable");
}

}  // namespace ofa
