// memostore::File and memostore::Dir: arguments that stand for the data in a
// file or a directory tree, so a memoized result follows the bytes on disk,
// not the name. `load(File("prices.csv"))` recomputes when prices.csv changes
// and hits for a moved or copied file with the same bytes.
//
// In a memoized call's key, a File contributes an XXH3-128 hash of its bytes
// and a Dir one over its files' relative names and contents; neither
// contributes its path. The store remembers each file's hash with its
// device, inode, size and modification and change times (nanoseconds), and
// reads the file again only when one of those changes (or always, with
// StoreOptions::file_check = FileCheck::content). See docs/design.md for the
// residual risk and how it is kept out.
//
// Inside the function, `path()` is the file to open. A missing or unreadable
// input is an Error (io) naming the path, thrown before the function runs.
// Only memo keys take inputs by content: a singleton with a File argument
// throws Error (usage). Elsewhere (e.g. inside a result) a File is its path.
#pragma once

#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <memostore/detail/archive.hpp>
#include <memostore/detail/input_hasher.hpp>

#include <cereal/types/string.hpp>

namespace memostore {

/// A file argument keyed by its content.
///
/// **Example**
/// ```cpp
/// auto load = memostore::memo(store, "load_prices",
///     [](const memostore::File& f) { return parse_csv(f.path()); });
/// load(memostore::File("data/prices.csv"));
/// ```
class File {
 public:
  File() = default;
  explicit File(std::filesystem::path path) : m_path(std::move(path)) {}

  /// The path as given: what the function opens.
  const std::filesystem::path& path() const noexcept { return m_path; }

  template <class Archive>
  void save(Archive& archive) const;
  template <class Archive>
  void load(Archive& archive) {
    std::string path;
    archive(path);
    m_path = path;
  }

 private:
  std::filesystem::path m_path;
};

/// A directory tree argument keyed by its files' relative names and contents.
/// The tree holds the regular files under `path` (and symbolic links to
/// files), at any depth, whose relative path matches `pattern`; symbolic
/// links to directories are not followed.
///
/// `pattern` is an fnmatch(3) glob: without a '/', it matches file names
/// ("*.csv"); with one, relative paths ("2024/*.csv", where '*' does not
/// cross '/'). Empty: every file.
///
/// **Example**
/// ```cpp
/// auto index = memostore::memo(store, "index",
///     [](const memostore::Dir& d) { return build_index(d.files()); });
/// index(memostore::Dir("corpus", "*.txt"));
/// ```
class Dir {
 public:
  Dir() = default;
  explicit Dir(std::filesystem::path path, std::string pattern = {})
      : m_path(std::move(path)), m_pattern(std::move(pattern)) {}

  const std::filesystem::path& path() const noexcept { return m_path; }
  const std::string& pattern() const noexcept { return m_pattern; }

  /// The files the fingerprint covers, as `path() / relative`, ordered by
  /// relative path (byte order): what the function should read. Throws
  /// Error (io) naming the directory if it cannot be listed.
  std::vector<std::filesystem::path> files() const;

  template <class Archive>
  void save(Archive& archive) const;
  template <class Archive>
  void load(Archive& archive) {
    std::string path;
    archive(path, m_pattern);
    m_path = path;
  }

 private:
  std::filesystem::path m_path;
  std::string m_pattern;
};

// --- Inline implementations ---

namespace detail {
/// In a key (a writer with an input hasher): the kind byte and the content
/// fingerprint. Anywhere else: the path (and pattern) as written.
template <class Archive>
bool save_fingerprint(Archive& archive, InputKind kind, const std::filesystem::path& path,
                      const std::string& pattern) {
  if constexpr (std::is_same_v<Archive, BinaryWriter>) {
    if (InputHasher* inputs = archive.inputs()) {
      const Hash128 hash = inputs->fingerprint(kind, path, pattern);
      archive(static_cast<char>(kind), hash.high, hash.low);
      return true;
    }
  }
  return false;
}
}  // namespace detail

template <class Archive>
void File::save(Archive& archive) const {
  if (!detail::save_fingerprint(archive, detail::InputKind::file, m_path, std::string())) {
    archive(m_path.string());
  }
}

template <class Archive>
void Dir::save(Archive& archive) const {
  if (!detail::save_fingerprint(archive, detail::InputKind::dir, m_path, m_pattern)) {
    archive(m_path.string(), m_pattern);
  }
}

}  // namespace memostore
