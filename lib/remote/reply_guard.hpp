// Checks a Redis reply's RESP headers as its bytes arrive, before hiredis's
// reader sees them. hiredis allocates a bulk string's whole buffer, and an
// array's element table from its header's count (`*80000000` alone asks for
// 640 MB), so a reply too large or of a kind the command never gets is
// refused on its header, before anything is allocated for it. Not
// thread-safe: one reply, one reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace memostore::detail {

/// The kinds of a Redis reply (an error reply is always accepted).
enum class ReplyKind : unsigned { nil, string, integer, status, array };

/// A set of reply kinds: what a command may answer at its top level.
class ReplyKinds {
 public:
  constexpr ReplyKinds(std::initializer_list<ReplyKind> kinds) {
    for (const ReplyKind kind : kinds) {
      m_bits |= 1U << static_cast<unsigned>(kind);
    }
  }
  static constexpr ReplyKinds any() { return {ReplyKind::nil, ReplyKind::string, ReplyKind::integer, ReplyKind::status, ReplyKind::array}; }
  constexpr bool contains(ReplyKind kind) const { return (m_bits & (1U << static_cast<unsigned>(kind))) != 0; }

 private:
  unsigned m_bits = 0;
};

/// The bounds of one reply: at most `max_bulk` bytes in one string, and
/// `max_bytes` and `max_elements` (strings, integers, arrays...) in all.
struct ReplyLimits {
  std::uint64_t max_bulk = std::uint64_t{64} << 20;
  std::uint64_t max_bytes = (std::uint64_t{64} << 20) + (std::uint64_t{1} << 20);
  std::uint64_t max_elements = std::uint64_t{1} << 16;  // a SCAN page of COUNT 1000 has about 1,000
  std::size_t max_depth = 4;                            // SCAN's reply nests 2 deep
  std::size_t max_line = std::size_t{64} << 10;         // a status, error or integer line
};

/// The limits for a tier whose entries are at most `max_value_bytes`.
ReplyLimits reply_limits_for(std::uint64_t max_value_bytes);

class ReplyGuard {
 public:
  ReplyGuard(ReplyLimits limits, ReplyKinds expected) : m_limits(limits), m_expected(expected) {}

  enum class State { more, complete, refused };
  struct Scan {
    State state;
    std::size_t used;  // bytes of `bytes` that belong to the reply (those before a refusal or after its end do not)
  };
  /// Checks the next `bytes` of the reply.
  Scan scan(std::string_view bytes);

  /// Why the reply was refused, e.g. "a value of 500000000 bytes, more than 67108864".
  const std::string& refusal() const noexcept { return m_refusal; }

 private:
  bool header(std::string_view line);
  bool element_done();
  bool refuse(std::string reason);

  ReplyLimits m_limits;
  ReplyKinds m_expected;
  std::string m_line;                   // the header line read so far
  std::uint64_t m_skip = 0;             // bytes of a bulk string (and its \r\n) still to come
  std::vector<std::uint64_t> m_pending;  // elements still to come in each open array, outermost first
  std::uint64_t m_bytes = 0;
  std::uint64_t m_elements = 0;
  bool m_complete = false;
  std::string m_refusal;
};

}  // namespace memostore::detail
