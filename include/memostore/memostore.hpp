// memostore: memoized functions whose results survive restarts.
// Include this header; the headers it includes are the whole public API.
#pragma once

#include <memostore/admin.hpp>
#include <memostore/callable.hpp>
#include <memostore/error.hpp>
#include <memostore/inputs.hpp>
#include <memostore/log.hpp>
#include <memostore/memo.hpp>
#include <memostore/stats.hpp>
#include <memostore/policy.hpp>
#include <memostore/shared.hpp>
#include <memostore/singleton.hpp>
#include <memostore/store.hpp>
#include <memostore/unhashed.hpp>
