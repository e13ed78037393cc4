// See shared_other_type.cpp.
#pragma once

#include <cstddef>

#include <memostore/store.hpp>

/// The size of the vector "confusable"(n) returns, read with Memo::shared,
/// from a memo whose result type shares its name with shared_test.cpp's.
std::size_t shared_of_other_type(const memostore::Store& store, int n);
