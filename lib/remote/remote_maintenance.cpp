// Commands over every server of the remote tier, for the memostore tool:
// ping (version and round trip) and clear (every key under the prefix, by
// SCAN, never KEYS). Each uses a connection of its own, outside the pool and
// the backoff, so that it reports what each server does now.
#include "remote/remote_tier.hpp"
#include "remote/remote_tier_internals.hpp"

namespace memostore::detail {

namespace {

/// `prefix` with the characters SCAN's MATCH treats as a pattern escaped.
std::string glob_escaped(std::string_view prefix) {
  std::string out;
  for (const char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<RemoteTier::Ping> RemoteTier::ping() {
  std::vector<Ping> pings;
  for (const auto& shard : m_shards) {
    Ping ping{shard->endpoint.display};
    RedisConnection connection(shard->endpoint, m_settings.timeouts, m_reply_limits);
    if (auto connected = connection.command({"PING"}, {ReplyKind::status}); !connected) {
      ping.version = connected.failure();
      pings.push_back(std::move(ping));
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    auto info = connection.command({"INFO", "server"}, {ReplyKind::string});
    ping.round_trip =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
    if (!info) {
      ping.version = info.failure();
    } else {
      const std::string& text = info->text;
      const auto at = text.find("redis_version:");
      ping.version = at == std::string::npos ? std::string("unknown")
                                             : text.substr(at + 14, text.find_first_of("\r\n", at) - at - 14);
    }
    pings.push_back(std::move(ping));
  }
  return pings;
}

Result<std::uint64_t> RemoteTier::clear() {
  std::uint64_t removed = 0;
  const std::string pattern = glob_escaped(m_settings.prefix) + "*";
  for (const auto& shard : m_shards) {
    RedisConnection connection(shard->endpoint, m_settings.timeouts, m_reply_limits);
    std::string cursor = "0";
    do {
      auto page = connection.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, {ReplyKind::array});
      if (!page) {
        return page.failure();
      }
      if (page->kind != RedisReply::Kind::array || page->elements.size() != 2) {
        return Failure{ErrorCode::io, "Redis at " + shard->endpoint.display + ": unexpected SCAN reply"};
      }
      cursor = page->elements[0].text;
      for (const RedisReply& key : page->elements[1].elements) {
        auto deleted = connection.command({"UNLINK", key.text}, {ReplyKind::integer});
        if (!deleted) {
          return deleted.failure();
        }
        removed += static_cast<std::uint64_t>(deleted->integer);
      }
    } while (cursor != "0");
  }
  return removed;
}

}  // namespace memostore::detail
