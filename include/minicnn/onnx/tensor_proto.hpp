// Reading ONNX TensorProtos (initializers, Constant nodes, test data) into minicnn tensors, with
// every size checked against the bytes the file holds BEFORE anything is allocated.
//
// A TensorProto stores its shape in `dims` and its values in one of two places:
//   raw_data        the values as little-endian bytes, row-major: exactly count * width bytes;
//   float_data ...  a repeated field of the type's own (float_data, double_data, int64_data,
//                   int32_data for INT32/INT16/INT8/UINT8/BOOL), exactly count entries.
// count = the product of the dims (1 for a scalar, rank 0). A file may claim any dims; the claim
// is compared with what was actually parsed, so a 10-byte file cannot ask for gigabytes. Values
// kept outside the file (data_location EXTERNAL) and types other than FLOAT, DOUBLE, INT64 and
// INT32 are refused.
//
// Shared by the importer (onnx/import.hpp) and the exporter, which writes FLOAT raw_data.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "minicnn/error.hpp"
#include "minicnn/shape.hpp"
#include "minicnn/tensor.hpp"

namespace minicnn::onnx_io {

// ONNX's name of a TensorProto data type, for messages ("FLOAT", "INT64", or the number).
inline std::string data_type_name(int type) {
  return ::onnx::TensorProto_DataType_IsValid(type)
             ? ::onnx::TensorProto_DataType_Name(static_cast<::onnx::TensorProto_DataType>(type))
             : std::to_string(type);
}

// The tensor's dims as a Shape, after checking each is >= 0, the rank fits a Shape and the
// element count fits an Index. `what` names the tensor in messages.
inline Shape proto_shape(const ::onnx::TensorProto& tensor, const std::string& what) {
  if (tensor.dims_size() > Shape::kMaxRank)
    fail(what, ": expected at most ", Shape::kMaxRank, " dimensions, got ", tensor.dims_size());
  Shape shape;
  Index count = 1;
  for (const std::int64_t d : tensor.dims()) {
    if (d < 0) fail(what, ": expected dimensions >= 0, got ", d);
    if (d != 0 && count > std::numeric_limits<Index>::max() / d)
      fail(what, ": its dimensions multiply to more elements than an index can count");
    count *= d;
    shape.push_back(d);
  }
  return shape;
}

namespace detail {

// Little-endian bytes -> value, whatever the host's byte order.
template <typename Bits>
Bits little_endian(const char* bytes) {
  Bits bits = 0;
  for (std::size_t b = 0; b < sizeof(Bits); ++b)
    bits |= static_cast<Bits>(static_cast<unsigned char>(bytes[b])) << (8 * b);
  return bits;
}

// Checks that the data field holds exactly `count` values of `width` bytes; returns whether they
// are in raw_data.
inline bool check_length(const ::onnx::TensorProto& tensor, const std::string& what, Index count,
                         std::size_t width, int field_size, const char* field) {
  if (tensor.data_location() == ::onnx::TensorProto::EXTERNAL)
    fail(what, ": its data is stored outside the file (external data), which is not supported");
  if (!tensor.raw_data().empty()) {
    const bool fits = count <= std::numeric_limits<Index>::max() / static_cast<Index>(width);
    if (!fits || tensor.raw_data().size() != static_cast<std::uint64_t>(count) * width)
      fail(what, ": its dims ", proto_shape(tensor, what), " need ", count, " values (", count,
           " x ", width, " bytes of raw_data), got ", tensor.raw_data().size(), " bytes");
    return true;
  }
  if (field_size != count)
    fail(what, ": its dims ", proto_shape(tensor, what), " need ", count, " values, got ",
         field_size, " in ", field);
  return false;
}

}  // namespace detail

// The values of a FLOAT or DOUBLE tensor, converted to T, in row-major order.
template <typename T>
std::vector<T> float_values(const ::onnx::TensorProto& tensor, const std::string& what) {
  const Index count = proto_shape(tensor, what).size();
  std::vector<T> values;
  if (tensor.data_type() == ::onnx::TensorProto::FLOAT) {
    if (detail::check_length(tensor, what, count, 4, tensor.float_data_size(), "float_data")) {
      values.resize(static_cast<std::size_t>(count));
      for (Index i = 0; i < count; ++i) {
        const auto bits = detail::little_endian<std::uint32_t>(tensor.raw_data().data() + 4 * i);
        float value;
        std::memcpy(&value, &bits, 4);
        values[static_cast<std::size_t>(i)] = static_cast<T>(value);
      }
    } else {
      values.assign(tensor.float_data().begin(), tensor.float_data().end());
    }
  } else if (tensor.data_type() == ::onnx::TensorProto::DOUBLE) {
    if (detail::check_length(tensor, what, count, 8, tensor.double_data_size(), "double_data")) {
      values.resize(static_cast<std::size_t>(count));
      for (Index i = 0; i < count; ++i) {
        const auto bits = detail::little_endian<std::uint64_t>(tensor.raw_data().data() + 8 * i);
        double value;
        std::memcpy(&value, &bits, 8);
        values[static_cast<std::size_t>(i)] = static_cast<T>(value);
      }
    } else {
      for (const double value : tensor.double_data())
        values.push_back(static_cast<T>(value));
    }
  } else {
    fail(what, ": expected a FLOAT or DOUBLE tensor, got ", data_type_name(tensor.data_type()));
  }
  return values;
}

// The values of an INT64 or INT32 tensor (shapes, axes), in row-major order.
inline std::vector<std::int64_t> int_values(const ::onnx::TensorProto& tensor,
                                            const std::string& what) {
  const Index count = proto_shape(tensor, what).size();
  std::vector<std::int64_t> values;
  if (tensor.data_type() == ::onnx::TensorProto::INT64) {
    if (detail::check_length(tensor, what, count, 8, tensor.int64_data_size(), "int64_data")) {
      for (Index i = 0; i < count; ++i)
        values.push_back(static_cast<std::int64_t>(
            detail::little_endian<std::uint64_t>(tensor.raw_data().data() + 8 * i)));
    } else {
      values.assign(tensor.int64_data().begin(), tensor.int64_data().end());
    }
  } else if (tensor.data_type() == ::onnx::TensorProto::INT32) {
    if (detail::check_length(tensor, what, count, 4, tensor.int32_data_size(), "int32_data")) {
      for (Index i = 0; i < count; ++i)
        values.push_back(static_cast<std::int32_t>(
            detail::little_endian<std::uint32_t>(tensor.raw_data().data() + 4 * i)));
    } else {
      values.assign(tensor.int32_data().begin(), tensor.int32_data().end());
    }
  } else {
    fail(what, ": expected an INT64 or INT32 tensor, got ", data_type_name(tensor.data_type()));
  }
  return values;
}

// A FLOAT or DOUBLE TensorProto as a Tensor<T> of its dims (a scalar becomes shape (1)).
template <typename T>
Tensor<T> to_tensor(const ::onnx::TensorProto& tensor, const std::string& what) {
  const Shape shape = proto_shape(tensor, what);
  std::vector<T> values = float_values<T>(tensor, what);  // checks the length first
  Tensor<T> result(shape.rank() == 0 ? Shape{1} : shape);
  std::copy(values.begin(), values.end(), result.data());
  return result;
}

}  // namespace minicnn::onnx_io
