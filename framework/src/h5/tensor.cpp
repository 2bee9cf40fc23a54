// h5/tensor.cpp — tensors in HDF5: shape as the dataset's shape, dtype as an attribute.
//
//   torch dtype   `dtype` attr   stored as
//   float32       float32        float32
//   float64       float64        float64
//   float16       float16        uint16 (the bits)
//   bfloat16      bfloat16       uint16 (the bits)
//   int64/32/16/8 int64/...      the same integer type
//   uint8         uint8          uint8
//   bool          bool           uint8 (0/1)
#include <ATen/ATen.h>

#include "h5/hdf5_handles.h"
#include "h5/reader.hpp"
#include "h5/writer.hpp"
#include "ram/error.hpp"

namespace ram::h5 {

using detail::Id;

namespace {

struct DtypeInfo {
  at::ScalarType scalar;
  const char* name;
  hid_t (*storage)();
};

hid_t t_f32() { return H5T_NATIVE_FLOAT; }
hid_t t_f64() { return H5T_NATIVE_DOUBLE; }
hid_t t_u16() { return H5T_NATIVE_UINT16; }
hid_t t_i64() { return H5T_NATIVE_INT64; }
hid_t t_i32() { return H5T_NATIVE_INT32; }
hid_t t_i16() { return H5T_NATIVE_INT16; }
hid_t t_i8() { return H5T_NATIVE_INT8; }
hid_t t_u8() { return H5T_NATIVE_UINT8; }

const DtypeInfo kDtypes[] = {
    {at::kFloat, "float32", t_f32},   {at::kDouble, "float64", t_f64},
    {at::kHalf, "float16", t_u16},    {at::kBFloat16, "bfloat16", t_u16},
    {at::kLong, "int64", t_i64},      {at::kInt, "int32", t_i32},
    {at::kShort, "int16", t_i16},     {at::kChar, "int8", t_i8},
    {at::kByte, "uint8", t_u8},       {at::kBool, "bool", t_u8},
};

const DtypeInfo* by_scalar(at::ScalarType s) {
  for (const auto& d : kDtypes)
    if (d.scalar == s) return &d;
  return nullptr;
}

const DtypeInfo* by_name(const std::string& n) {
  for (const auto& d : kDtypes)
    if (n == d.name) return &d;
  return nullptr;
}

// Without a `dtype` attribute (e.g. a file from h5py): the stored type decides.
const DtypeInfo* by_stored(hid_t type) {
  std::string n = detail::type_name(type);
  if (n == "uint16") return nullptr;  // ambiguous without the attribute
  return by_name(n);
}

}  // namespace

void Writer::write_tensor(const std::string& name, const at::Tensor& t) {
  const DtypeInfo* info = by_scalar(t.scalar_type());
  if (!info)
    throw NotSupported(std::string("cannot store a tensor of dtype ") +
                           at::toString(t.scalar_type()) + " in HDF5",
                       name, "convert it to float32, float16, bfloat16 or an integer type");
  at::Tensor c = t.is_contiguous() && t.device().is_cpu() ? t : t.to(at::kCPU).contiguous();
  std::vector<std::int64_t> dims(c.sizes().begin(), c.sizes().end());
  Id dset = impl_->write_root(name, info->storage(), dims, c.numel() > 0 ? c.data_ptr() : nullptr);
  detail::write_string_attr(dset.get(), "dtype", info->name);
}

at::Tensor Reader::read_tensor(const std::string& name) const {
  Id dset = impl_->open_dataset(name);
  std::string p = detail::absolute(name);
  Id ftype(H5Dget_type(dset.get()), H5Tclose);
  const DtypeInfo* info = nullptr;
  if (has_attr(p, "dtype")) {
    std::string n = attr_string(p, "dtype");
    info = by_name(n);
    if (!info)
      throw FormatError("unknown dtype '" + n + "' of tensor '" + p + "' in '" + impl_->path + "'",
                        impl_->path + ":" + p, "this ram reads: float32 float64 float16 "
                        "bfloat16 int64 int32 int16 int8 uint8 bool");
  } else {
    info = by_stored(ftype.get());
    if (!info)
      throw FormatError("tensor '" + p + "' in '" + impl_->path + "' has no dtype attribute and "
                        "stored type " + detail::type_name(ftype.get()),
                        impl_->path + ":" + p, "write it with h5::Writer::write_tensor");
  }
  H5T_class_t want = H5Tget_class(info->storage()), have = H5Tget_class(ftype.get());
  if (want != have || H5Tget_size(info->storage()) != H5Tget_size(ftype.get()))
    throw FormatError("tensor '" + p + "' in '" + impl_->path + "': dtype attribute says " +
                          info->name + " but the data is " + detail::type_name(ftype.get()),
                      impl_->path + ":" + p, "the file is inconsistent; re-create it");
  Id space(H5Dget_space(dset.get()), H5Sclose);
  int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> d(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  std::vector<std::int64_t> shape(d.begin(), d.end());
  at::Tensor out = at::empty(shape, at::TensorOptions().dtype(info->scalar));
  if (out.numel() > 0 &&
      H5Dread(dset.get(), info->storage(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data_ptr()) < 0)
    detail::fail("cannot read tensor '" + p + "'", impl_->path, p);
  return out;
}

}  // namespace ram::h5
