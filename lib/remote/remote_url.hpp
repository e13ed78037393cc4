// Where the remote tier's Redis servers are: MEMOSTORE_REMOTE / StoreOptions::remote
// hold one or more URLs separated by spaces,
//   redis://[[user]:password@]host[:port][/db]
//   redis+unix://[[user]:password@]/path/to/socket[?db=N]
// The password is kept apart from everything that is printed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace memostore::detail {

struct RemoteEndpoint {
  std::string host = {};         // empty for a Unix socket
  int port = 6379;
  std::string socket_path = {};  // empty for TCP
  int db = 0;
  std::string user = {};
  std::string password = {};     // never printed
  std::string display = {};      // the URL without its password: for messages and shard hashing
};

/// Parses one URL; a config failure names it (without the password) and the
/// accepted forms.
Result<RemoteEndpoint> parse_remote_url(std::string_view url);

/// Parses the URLs in `urls`, separated by spaces; none for an empty string.
Result<std::vector<RemoteEndpoint>> parse_remote_urls(std::string_view urls);

}  // namespace memostore::detail
