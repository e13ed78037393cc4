#include "remote/remote_url.hpp"

#include <charconv>

#include <fmt/format.h>

namespace memostore::detail {
namespace {

constexpr std::string_view k_tcp_scheme = "redis://";
constexpr std::string_view k_unix_scheme = "redis+unix://";

Failure bad_url(std::string_view shown, std::string_view why) {
  return Failure{ErrorCode::config,
                 fmt::format("remote URL \"{}\": {}. Use redis://[:password@]host[:port][/db] or "
                             "redis+unix://[:password@]/path/to/socket[?db=N], several separated by spaces",
                             shown, why)};
}

/// A whole decimal number in [0, max].
bool parse_number(std::string_view text, int max, int& out) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return false;
  }
  out = value;
  return true;
}

}  // namespace

Result<RemoteEndpoint> parse_remote_url(std::string_view url) {
  RemoteEndpoint endpoint;
  const bool unix_socket = url.starts_with(k_unix_scheme);
  if (!unix_socket && !url.starts_with(k_tcp_scheme)) {
    const bool has_password = url.find('@') != std::string_view::npos;
    return bad_url(has_password ? "(not shown: it holds a password)" : url, "unknown scheme");
  }
  const std::string_view scheme = unix_socket ? k_unix_scheme : k_tcp_scheme;
  std::string_view rest = url.substr(scheme.size());
  std::string_view credentials;
  // The user-info ends at the last '@': a password may contain '@'.
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  endpoint.display = std::string(scheme) + std::string(rest);
  if (const auto colon = credentials.find(':'); colon != std::string_view::npos) {
    endpoint.user = std::string(credentials.substr(0, colon));
    endpoint.password = std::string(credentials.substr(colon + 1));
  } else if (!credentials.empty()) {
    endpoint.password = std::string(credentials);  // redis://secret@host: the password alone
  }

  if (unix_socket) {
    std::string_view path = rest;
    if (const auto query = rest.find('?'); query != std::string_view::npos) {
      path = rest.substr(0, query);
      const std::string_view parameter = rest.substr(query + 1);
      if (!parameter.starts_with("db=") || !parse_number(parameter.substr(3), 1 << 20, endpoint.db)) {
        return bad_url(endpoint.display, "the only query parameter is db=N");
      }
    }
    if (!path.starts_with('/')) {
      return bad_url(endpoint.display, "the socket path must be absolute");
    }
    endpoint.socket_path = std::string(path);
    return endpoint;
  }

  std::string_view authority = rest;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && !parse_number(db, 1 << 20, endpoint.db)) {
      return bad_url(endpoint.display, "the database after '/' must be a number");
    }
  }
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos && authority.back() != ']') {
    if (!parse_number(authority.substr(colon + 1), 65535, endpoint.port) || endpoint.port == 0) {
      return bad_url(endpoint.display, "the port must be a number from 1 to 65535");
    }
    authority = authority.substr(0, colon);
  }
  if (authority.starts_with('[') && authority.ends_with(']')) {
    authority = authority.substr(1, authority.size() - 2);  // [::1]
  }
  if (authority.empty()) {
    return bad_url(endpoint.display, "no host");
  }
  endpoint.host = std::string(authority);
  return endpoint;
}

Result<std::vector<RemoteEndpoint>> parse_remote_urls(std::string_view urls) {
  std::vector<RemoteEndpoint> endpoints;
  while (!urls.empty()) {
    const auto start = urls.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) {
      break;
    }
    urls.remove_prefix(start);
    const auto end = std::min(urls.find_first_of(" \t\n"), urls.size());
    auto endpoint = parse_remote_url(urls.substr(0, end));
    if (!endpoint) {
      return endpoint.failure();
    }
    endpoints.push_back(std::move(endpoint).value());
    urls.remove_prefix(end);
  }
  return endpoints;
}

}  // namespace memostore::detail
