// Output files that appear whole or not at all: written under a temporary name in the target's
// directory, renamed onto the target only when everything was written.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace rnnad::cli {

/// One output file. The constructor creates `<dir>/.<name>.XXXXXX` (mkstemp, in the target's own
/// directory, so the final rename stays on one file system and is atomic); commit() flushes,
/// syncs, closes and renames it onto the target; the destructor removes it when commit() was not
/// reached (an error, an exception), so a failed run leaves nothing behind.
class AtomicFile {
 public:
  /// Throws IoError "<target>: cannot create a temporary file in <dir>: <reason>".
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  /// The stream to write to (buffered; valid until commit()).
  std::FILE* stream() { return m_file; }
  const std::filesystem::path& target() const { return m_target; }
  /// Makes the file visible under its target name. Throws IoError naming the target when a write,
  /// the flush, the sync, the close or the rename failed (the temporary file is then removed).
  void commit();

 private:
  std::filesystem::path m_target, m_temp;
  std::FILE* m_file = nullptr;
  bool m_committed = false;
};

/// Throws rnnad::Error before a run when an output would destroy data: an output that is an
/// existing directory, two outputs naming the same file, or an output naming one of the inputs
/// (empty and "-" inputs are skipped). Paths are compared after resolving "..", symbolic links and
/// the working directory (the outputs need not exist yet).
void check_output_paths(const std::vector<std::filesystem::path>& outputs,
                        const std::vector<std::filesystem::path>& inputs);

}  // namespace rnnad::cli
