# Cross toolchain for the riscv64 runtime: Debian's gcc cross compiler (libgomp for OpenMP) and sysroot,
# plus clang-19 for the files that need RVV 1.0 intrinsics (gcc 12 has none).
# Used by scripts/build-runtime.sh riscv64; binaries run under `qemu-riscv64 -L /usr/riscv64-linux-gnu`.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR riscv64)

set(CMAKE_C_COMPILER riscv64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER riscv64-linux-gnu-g++)
set(SLMC_CROSS_SYSROOT /usr/riscv64-linux-gnu)
# Compiles targets/riscv64/kernels/*-rvv.c; the objects link into the gcc-built runtime (same psABI, lp64d).
set(SLMC_RVV_C_COMPILER clang-19 CACHE STRING "C compiler for RVV intrinsics files")
set(SLMC_RVV_C_FLAGS --target=riscv64-linux-gnu;-march=rv64gcv;-mabi=lp64d CACHE STRING "")

# Libraries and packages come from the sysroot only; programs (flatc) from the host (see the
# aarch64 toolchain file for the FlatBuffers headers).
set(CMAKE_FIND_ROOT_PATH ${SLMC_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Lets ctest in the cross build directory (and gtest discovery) run target binaries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-riscv64;-cpu;rv64,v=true,vext_spec=v1.0,vlen=128;-L;${SLMC_CROSS_SYSROOT})
