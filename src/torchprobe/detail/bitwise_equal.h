#pragma once
// Whether two tensors hold the same bytes (shape, dtype and every bit of every value): how extract
// and verify check that two ways of computing a capture agree exactly.
#include <ATen/ATen.h>

#include <cstring>

namespace torchprobe::detail {

inline bool bitwise_equal(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes() || a.scalar_type() != b.scalar_type()) return false;
  at::Tensor ca = a.contiguous(), cb = b.contiguous();
  return std::memcmp(ca.data_ptr(), cb.data_ptr(), ca.nbytes()) == 0;
}

}  // namespace torchprobe::detail
