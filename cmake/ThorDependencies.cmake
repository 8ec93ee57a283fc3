# Every dependency comes from Debian's packages; see scripts/common.sh.
find_package(Torch REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(TBB REQUIRED)
find_package(yaml-cpp REQUIRED)
# Boost.Program_options only for the programs (thor_cli); Boost headers (math) privately.
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
# MPI (Open MPI from Debian) is optional: without it every program is one
# process, exactly as before (thor::Cluster has one rank).
option(THOR_WITH_MPI "Distribute candidate evaluation over MPI ranks when MPI is found" ON)
set(THOR_HAVE_MPI OFF)
if(THOR_WITH_MPI)
  # The C API through the C++ compiler; the deprecated C++ bindings are not used.
  set(MPI_CXX_SKIP_MPICXX ON CACHE BOOL "thor uses MPI's C API only")
  find_package(MPI COMPONENTS CXX QUIET)
  if(MPI_CXX_FOUND)
    set(THOR_HAVE_MPI ON)
  endif()
endif()
message(STATUS "thor: MPI ${THOR_HAVE_MPI}")

# Header-only libraries without a CMake package in Debian.
find_path(THOR_LBFGSPP_INCLUDE_DIR LBFGSB.h PATHS /usr/include PATH_SUFFIXES LBFGSpp NO_CACHE)
if(NOT THOR_LBFGSPP_INCLUDE_DIR)
  message(FATAL_ERROR "LBFGSpp not found: install liblbfgspp-dev")
endif()
get_filename_component(THOR_LBFGSPP_INCLUDE_DIR "${THOR_LBFGSPP_INCLUDE_DIR}" DIRECTORY)
find_path(THOR_STB_INCLUDE_DIR stb_image.h PATH_SUFFIXES stb)
if(NOT THOR_STB_INCLUDE_DIR)
  message(FATAL_ERROR "stb_image.h not found: install libstb-dev")
endif()

# LibTorch's imported target carries flags we do not want on every consumer;
# wrap it once so only targets that really use torch see it.
if(NOT TARGET thor_torch)
  add_library(thor_torch INTERFACE)
  target_link_libraries(thor_torch INTERFACE ${TORCH_LIBRARIES})
  target_include_directories(thor_torch SYSTEM INTERFACE ${TORCH_INCLUDE_DIRS})
  target_compile_features(thor_torch INTERFACE cxx_std_17)
  install(TARGETS thor_torch EXPORT thorTargets)
endif()
