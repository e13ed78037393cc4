#include <memostore/detail/memo_core.hpp>

#include <chrono>

#include <fmt/std.h>

#include "codec/envelope.hpp"
#include "codec/key.hpp"
#include "store/store_core.hpp"
#include "util/log.hpp"

namespace memostore::detail {
namespace {

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool writes_results(Mode mode) { return mode == Mode::readwrite || mode == Mode::refresh; }

/// Decodes the stored entry for `key` through `decode`. A read error, a
/// damaged envelope or a payload that does not decode is a miss with one
/// warning; the damaged entry is removed (except in readonly mode) so it is
/// recomputed once.
bool lookup(const MemoCore& memo, const std::string& key, std::string_view args, DecodeFn decode) {
  StoreCore& store = *memo.store().core();
  Database& database = *store.database();
  std::string damage;
  bool hit = false;
  auto found = database.get(key, [&](std::string_view bytes) {
    auto entry = read_envelope(bytes);
    if (!entry) {
      damage = entry.failure().message;
      return;
    }
    if (entry->info.type != memo.type() || entry->arguments != args) {
      return;  // another call's entry under a colliding hash: a miss, never its value
    }
    try {
      decode(entry->payload);
      hit = true;
    } catch (const std::exception& e) {  // cereal::Exception, std::length_error, the type's own load code
      damage = fmt::format("its value does not decode ({})", e.what());
    }
  });
  if (!found) {
    if (store.first_report_for(key)) {
      warn("cannot read a result of {} (version {}): {}; computing it", memo.name(), memo.version(),
           found.failure().message);
    }
    return false;
  }
  if (!damage.empty()) {
    const bool removable = writes_results(memo.store().mode());
    // A removed entry seen damaged again was damaged again: a new warning.
    // One that stays (readonly) is reported once.
    if (removable || store.first_report_for(key)) {
      warn("damaged entry of {} (version {}) in {}: {}; {}computing the result again", memo.name(), memo.version(),
           database.dir(), damage, removable ? "removed it and " : "");
    }
    if (removable) {
      (void)database.remove(key);  // best effort: the recomputed result overwrites it anyway
    }
  }
  return hit;
}

/// Decodes a result another thread computed; false (with a warning) if it does not decode.
bool decode_shared(const MemoCore& memo, std::string_view payload, DecodeFn decode) {
  try {
    decode(payload);
    return true;
  } catch (const std::exception& e) {
    warn("a freshly computed result of {} (version {}) does not decode ({}); computing it in this thread",
         memo.name(), memo.version(), e.what());
    return false;
  }
}

void compute_and_store(const MemoCore& memo, const std::string& key, std::string_view args, ComputeFn compute,
                       InflightTable::Ticket& ticket) {
  std::string envelope;
  start_envelope(envelope, args);
  const auto started = std::chrono::steady_clock::now();
  bool encoded = false;
  try {
    encoded = compute(envelope);
  } catch (...) {  // the user's exception: every waiter gets it, nothing is stored
    ticket.fail(std::current_exception());
    throw;
  }
  if (!encoded) {
    ticket.finish(FlightResult{});
    return;
  }
  EntryInfo info;
  info.created_ms = unix_now_ms();
  info.compute_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started).count());
  info.type = memo.type();
  finish_envelope(envelope, info);

  auto shared = std::make_shared<const std::string>(std::move(envelope));
  StoreCore& store = *memo.store().core();
  if (writes_results(memo.store().mode())) {
    if (auto written = store.database()->put(key, *shared); !written) {
      store.report_write_failure(memo.name(), written.failure());
    }
  }
  const std::size_t offset = payload_offset(*shared);
  const std::string_view payload =
      std::string_view(*shared).substr(offset, shared->size() - offset - k_envelope_checksum_size);
  ticket.finish(FlightResult{std::move(shared), payload});
}

}  // namespace

MemoCore::MemoCore(Store store, std::string name, std::uint32_t version, Hash128 type)
    : m_store(std::move(store)), m_name(std::move(name)), m_version(version), m_type(type) {
  value_or_throw(check_function_name(m_name));
  m_key_prefix = version_prefix(m_name, m_version);
}

std::string MemoCore::key_for(std::string_view args) const {
  std::string key;
  key.reserve(m_key_prefix.size() + k_key_hash_size);
  key = m_key_prefix;
  append_hash(key, hash_arguments(m_type, args));
  return key;
}

void MemoCore::call(std::string_view args, DecodeFn decode, ComputeFn compute) const {
  if (args.size() > k_max_arguments_size) {
    warn("the arguments of a call to {} (version {}) encode to {} bytes, more than an entry can hold; "
         "computing it without the cache",
         m_name, m_version, args.size());
    std::string unused;
    compute(unused);
    return;
  }
  InflightTable& inflight = m_store.core()->inflight();
  const std::string key = key_for(args);
  const bool use_hits = m_store.mode() != Mode::refresh;
  for (int attempt = 0;; ++attempt) {
    const std::uint64_t epoch = inflight.epoch();
    if (use_hits && lookup(*this, key, args, decode)) {
      return;
    }
    InflightTable::Ticket ticket = inflight.join(key);
    if (ticket.leader()) {
      // A flight that ended between our lookup and join may have stored it.
      if (use_hits && inflight.epoch() != epoch && lookup(*this, key, args, decode)) {
        return;  // the ticket releases any waiters to look up themselves
      }
      compute_and_store(*this, key, args, compute, ticket);
      return;
    }
    const FlightResult shared = ticket.wait();  // rethrows the leader's exception
    if (shared.envelope && decode_shared(*this, shared.payload, decode)) {
      return;
    }
    if (!shared.envelope && attempt == 0) {
      continue;  // the leader found it stored, or could not encode it: look again
    }
    std::string unused;
    compute(unused);
    return;
  }
}

bool MemoCore::cached(std::string_view args) const {
  Database* database = m_store.core()->database();
  if (database == nullptr) {
    return false;
  }
  bool valid = false;
  auto found = database->get(key_for(args), [&](std::string_view bytes) {
    auto entry = read_envelope(bytes);
    valid = entry && entry->info.type == m_type && entry->arguments == args;
  });
  return found && valid;
}

void MemoCore::forget(std::string_view args) const {
  if (writes_results(m_store.mode())) {
    value_or_throw(m_store.core()->database()->remove(key_for(args)));
  }
}

void MemoCore::clear() const {
  if (writes_results(m_store.mode())) {
    value_or_throw(m_store.core()->database()->remove_prefix(function_prefix(m_name)));
  }
}

void MemoCore::report_unstorable(std::string_view reason) const {
  warn("a result of {} (version {}) cannot be encoded ({}); it was returned but not stored", m_name, m_version,
       reason);
}

}  // namespace memostore::detail
