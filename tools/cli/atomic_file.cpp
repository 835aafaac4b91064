// AtomicFile: temporary file + rename (atomic_file.h).
#include "atomic_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <vector>

#include "rnnad/error.h"

namespace rnnad::cli {

namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path target) : m_target(std::move(target)) {
  const fs::path dir = m_target.has_parent_path() ? m_target.parent_path() : fs::path(".");
  std::string pattern = (dir / ("." + m_target.filename().string() + ".XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0)
    throw IoError(m_target.string() + ": cannot create a temporary file in " + dir.string() + ": " + std::strerror(errno));
  m_temp = name.data();
  const mode_t mask = ::umask(0);  // mkstemp creates 0600; an output is an ordinary file (0666 & ~umask)
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  m_file = ::fdopen(fd, "w");
  if (!m_file) {
    const int err = errno;
    ::close(fd);
    ::unlink(m_temp.c_str());
    throw IoError(m_target.string() + ": cannot open a temporary file: " + std::strerror(err));
  }
  std::setvbuf(m_file, nullptr, _IOFBF, std::size_t{1} << 20);
}

AtomicFile::~AtomicFile() {
  if (m_committed) return;
  if (m_file) std::fclose(m_file);
  ::unlink(m_temp.c_str());
}

void AtomicFile::commit() {
  const bool write_error = std::ferror(m_file) != 0;
  const bool flushed = std::fflush(m_file) == 0 && ::fsync(::fileno(m_file)) == 0;
  const int err = errno;
  const bool closed = std::fclose(m_file) == 0;
  m_file = nullptr;
  if (write_error || !flushed || !closed) {
    ::unlink(m_temp.c_str());
    m_committed = true;  // nothing left to remove
    throw IoError(m_target.string() + ": cannot write: " + std::strerror(write_error || !flushed ? err : errno));
  }
  std::error_code ec;
  fs::rename(m_temp, m_target, ec);
  if (ec) {
    ::unlink(m_temp.c_str());
    m_committed = true;
    throw IoError(m_target.string() + ": cannot rename the temporary file onto it: " + ec.message());
  }
  m_committed = true;
}

void check_output_paths(const std::vector<fs::path>& outputs, const std::vector<fs::path>& inputs) {
  auto resolved = [](const fs::path& p) {
    std::error_code ec;
    const fs::path r = fs::weakly_canonical(p, ec);
    return ec ? fs::absolute(p) : r;
  };
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    std::error_code ec;
    if (fs::is_directory(outputs[i], ec))
      throw Error(outputs[i].string() + ": is a directory; name a file to write");
    for (std::size_t j = i + 1; j < outputs.size(); ++j)
      if (resolved(outputs[i]) == resolved(outputs[j]))
        throw Error(outputs[i].string() + ": two outputs of this run (" + outputs[j].string() +
                    ") would be the same file");
    for (const fs::path& in : inputs)
      if (!in.empty() && in != "-" && resolved(outputs[i]) == resolved(in))
        throw Error(outputs[i].string() + ": is also an input of this run; writing it would destroy the input");
  }
}

}  // namespace rnnad::cli
