#include <gtest/gtest.h>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <vector>

#include "kernels/error.h"
#include "supernet/atomic_file.h"

namespace ofa {
namespace {

namespace fs = std::filesystem;

std::span<const std::byte> bytes(const std::string& text) { return std::as_bytes(std::span(text)); }

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Each test gets a fresh directory, so "nothing else is left in it" is checkable.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / concat("ofa-atomic-", ::getpid(), "-", info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename().string());
    return names;
  }

  fs::path dir_;
};

const std::string kOld = "the previous, complete version\n";

TEST_F(AtomicFileTest, WritesTheContentAndNothingElse) {
  write_file_atomically(path("weights.bin"), bytes("hello, file"));
  EXPECT_EQ(read_text(path("weights.bin")), "hello, file");
  EXPECT_EQ(entries(), std::vector<std::string>{"weights.bin"});
}

TEST_F(AtomicFileTest, OldFileIsUntouchedUntilCommitThenReplacedWhole) {
  write_text(path("ckpt"), kOld);
  AtomicFileWriter writer(path("ckpt"));
  writer.write(bytes("new part one, "));
  writer.write(bytes("new part two"));
  EXPECT_EQ(read_text(path("ckpt")), kOld);
  writer.commit();
  EXPECT_EQ(read_text(path("ckpt")), "new part one, new part two");
  EXPECT_EQ(entries(), std::vector<std::string>{"ckpt"});
}

TEST_F(AtomicFileTest, WriterDestroyedWithoutCommitLeavesOldFileAndNoTemporary) {
  write_text(path("ckpt"), kOld);
  {
    AtomicFileWriter writer(path("ckpt"));
    writer.write(bytes("half of the new"));
    EXPECT_EQ(entries().size(), 2u) << "the temporary should exist while writing";
  }
  EXPECT_EQ(read_text(path("ckpt")), kOld);
  EXPECT_EQ(entries(), std::vector<std::string>{"ckpt"});
}

TEST_F(AtomicFileTest, MissingDirectoryFailsNamingThePathAndTheReason) {
  const std::string target = path("no-such-dir/weights.bin");
  try {
    write_file_atomically(target, bytes("x"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("writing " + target), std::string::npos) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  }
}

TEST_F(AtomicFileTest, FailedRenameRemovesTheTemporaryAndKeepsTheTarget) {
  // A non-empty directory under the final name makes rename(2) fail after a complete write.
  fs::create_directories(path("occupied"));
  write_text(path("occupied/inside"), kOld);
  try {
    write_file_atomically(path("occupied"), bytes("new"));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot rename"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_text(path("occupied/inside")), kOld);
  EXPECT_EQ(entries(), std::vector<std::string>{"occupied"});
}

TEST_F(AtomicFileTest, SpentWriterRefusesFurtherUse) {
  AtomicFileWriter writer(path("once"));
  writer.write(bytes("data"));
  writer.commit();
  EXPECT_THROW(writer.write(bytes("more")), Error);
  EXPECT_THROW(writer.commit(), Error);
  EXPECT_EQ(read_text(path("once")), "data");
}

// Exit codes of the forked children below: 0 is success, anything else names the failed step.
enum ChildResult { kChildOk = 0, kChildNoError = 10, kChildWrongMessage = 11, kChildOldFileDamaged = 12 };

int wait_for(pid_t child) {
  int status = 0;
  EXPECT_EQ(::waitpid(child, &status, 0), child);
  return status;
}

// A full disk, as far as the writer can tell: the file-size limit makes write(2) fail with
// EFBIG the same way ENOSPC would. Run in a child so the limit does not leak into other tests.
TEST_F(AtomicFileTest, WriteErrorLikeAFullDiskKeepsOldFileAndRemovesTemporary) {
  write_text(path("ckpt"), kOld);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // report EFBIG instead of killing the process
    const rlimit limit{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int result = kChildNoError;
    try {
      write_file_atomically(path("ckpt"), bytes(std::string(64 * 1024, 'x')));
    } catch (const Error& e) {
      const std::string message = e.what();
      const bool clear = message.find("writing " + path("ckpt")) != std::string::npos &&
                         message.find("File too large") != std::string::npos;
      result = clear ? kChildOk : kChildWrongMessage;
    }
    if (result == kChildOk && read_text(path("ckpt")) != kOld) result = kChildOldFileDamaged;
    ::_exit(result);
  }
  const int status = wait_for(child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), kChildOk);
  EXPECT_EQ(read_text(path("ckpt")), kOld);
  EXPECT_EQ(entries(), std::vector<std::string>{"ckpt"});
}

TEST_F(AtomicFileTest, ProcessKilledMidWriteLeavesOldFileIntact) {
  write_text(path("ckpt"), kOld);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    AtomicFileWriter writer(path("ckpt"));
    writer.write(bytes("the first half of a new checkpoint"));
    const char signal_byte = 'w';
    if (::write(ready[1], &signal_byte, 1) != 1) ::_exit(1);
    ::pause();  // mid-write, waiting for SIGKILL
    ::_exit(1);
  }
  ::close(ready[1]);
  char got = 0;
  ASSERT_EQ(::read(ready[0], &got, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  const int status = wait_for(child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  EXPECT_EQ(read_text(path("ckpt")), kOld);
  // Nothing could remove the killed writer's temporary, and it is only ever under its own name.
  const std::string temporary_prefix = concat("ckpt.tmp.", child, ".");
  int temporaries = 0;
  for (const std::string& name : entries()) {
    if (name == "ckpt") continue;
    EXPECT_EQ(name.rfind(temporary_prefix, 0), 0u) << name;
    ++temporaries;
  }
  EXPECT_EQ(temporaries, 1);
}

}  // namespace
}  // namespace ofa
