# Every dependency comes from Debian packages (launch/bootstrap.sh installs them).
find_package(Torch REQUIRED)
set(MPI_CXX_SKIP_MPICXX ON)  # we use the C API from C++
find_package(MPI REQUIRED COMPONENTS CXX)
find_package(Threads REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PCRE2 REQUIRED IMPORTED_TARGET libpcre2-8)
find_package(Boost 1.74 REQUIRED)

# Parallel HDF5: Debian's OpenMPI flavour lives in its own directory.
set(RAM_HDF5_ROOT "/usr/lib/x86_64-linux-gnu/hdf5/openmpi" CACHE PATH "parallel HDF5 prefix")
find_library(RAM_HDF5_LIB hdf5 PATHS ${RAM_HDF5_ROOT}/lib ${RAM_HDF5_ROOT} NO_DEFAULT_PATH REQUIRED)
find_path(RAM_HDF5_INCLUDE H5FDmpio.h PATHS /usr/include/hdf5/openmpi ${RAM_HDF5_ROOT}/include NO_DEFAULT_PATH REQUIRED)
add_library(ram_hdf5 INTERFACE)
target_include_directories(ram_hdf5 SYSTEM INTERFACE ${RAM_HDF5_INCLUDE})
target_link_libraries(ram_hdf5 INTERFACE ${RAM_HDF5_LIB} MPI::MPI_CXX)
target_compile_definitions(ram_hdf5 INTERFACE H5_USE_110_API)

# LibTorch's imported target `torch` carries -D_GLIBCXX_USE_CXX11_ABI (part of our build id).

find_program(RAM_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
