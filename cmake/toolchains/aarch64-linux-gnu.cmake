# Cross toolchain for the arm64 runtime: Debian's gcc cross compiler (libgomp for OpenMP) and sysroot.
# Used by scripts/build-runtime.sh arm64; the binaries run under `qemu-aarch64 -L /usr/aarch64-linux-gnu`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(SLMC_CROSS_SYSROOT /usr/aarch64-linux-gnu)

# Libraries, headers and packages come from the sysroot only; programs (flatc) from the host. The one
# host header library used, FlatBuffers, is architecture-neutral: the top-level CMakeLists finds it
# outside the sysroot and exposes only its folder (never all of the host's /usr/include).
set(CMAKE_FIND_ROOT_PATH ${SLMC_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Lets ctest in the cross build directory (and gtest discovery) run target binaries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-cpu;max;-L;${SLMC_CROSS_SYSROOT})
