#!/usr/bin/env python3
"""The bundle's `wasm-opt -Oz [--converge] --enable-…`, run through Binaryen's C API.

Why not the `wasm-opt` binary: no prebuilt binaryen 116 can be fetched from the registries a
fresh machine reaches but crates.io, where the `wasm-opt` crate compiles it from C++ source (21
CPU-minutes, a third of a cold test run). PyPI's icpp-binaryen wheel carries binaryen 116's
shared library, prebuilt; scripts/setup-tools.sh unpacks it and this drives it with ctypes
(no Python packages needed). It runs the same passes as the binary, so the output is the same
bytes (README, Build and test time).

    python3 scripts/wasm-opt.py LIBBINARYEN IN -o OUT -Oz [--converge] [--strip-producers]
        [--strip-target-features] [--enable-FEATURE…]
    python3 scripts/wasm-opt.py LIBBINARYEN --version
"""
import ctypes
import hashlib
import sys

# wasm-opt's optimisation flags as (optimize level, shrink level), as in its CLI.
LEVELS = {"-O0": (0, 0), "-O1": (1, 0), "-O2": (2, 0), "-O3": (3, 0), "-O4": (4, 0),
          "-Os": (2, 1), "-Oz": (2, 2)}
# --enable-X → the C API's BinaryenFeatureX().
FEATURES = {"simd": "SIMD128", "bulk-memory": "BulkMemory",
            "nontrapping-float-to-int": "NontrappingFPToInt", "sign-ext": "SignExt",
            "mutable-globals": "MutableGlobals", "reference-types": "ReferenceTypes",
            "multivalue": "Multivalue", "threads": "Atomics"}
# Passes that drop a custom section nothing reads at run time (wasm-opt's flags of the same name).
STRIP = ("--strip-producers", "--strip-target-features")


class WriteResult(ctypes.Structure):
    _fields_ = [("binary", ctypes.c_void_p), ("binary_bytes", ctypes.c_size_t),
                ("source_map", ctypes.c_void_p)]


def fail(message):
    print(f"wasm-opt.py: {message}", file=sys.stderr)
    sys.exit(1)


def load(path):
    lib = ctypes.CDLL(path)
    lib.BinaryenModuleRead.restype = ctypes.c_void_p
    lib.BinaryenModuleRead.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    lib.BinaryenModuleRunPasses.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_uint32]
    for name in ("BinaryenModuleOptimize", "BinaryenModuleDispose"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.BinaryenModuleValidate.argtypes = [ctypes.c_void_p]
    lib.BinaryenModuleGetFeatures.argtypes = [ctypes.c_void_p]
    lib.BinaryenModuleGetFeatures.restype = ctypes.c_uint32
    lib.BinaryenModuleSetFeatures.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    lib.BinaryenModuleAllocateAndWrite.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.BinaryenModuleAllocateAndWrite.restype = WriteResult
    return lib


# The C library, whose free() releases what BinaryenModuleAllocateAndWrite allocated.
LIBC = ctypes.CDLL(None)
LIBC.free.argtypes = [ctypes.c_void_p]


def write(lib, module):
    """The module's bytes as wasm-opt writes them (no names section: no -g)."""
    result = lib.BinaryenModuleAllocateAndWrite(module, None)
    data = ctypes.string_at(result.binary, result.binary_bytes)
    LIBC.free(result.binary)
    return data


def main(argv):
    if len(argv) < 2:
        fail(__doc__.strip().splitlines()[-2].strip())
    lib = load(argv[0])
    if argv[1:] == ["--version"]:
        # The library has no call that returns its version: name it by its content.
        with open(argv[0], "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        print(f"wasm-opt.py over libbinaryen 116 (sha256 {digest})")
        return
    source, out, level, converge, features, strip = None, None, None, False, 0, []
    args = iter(argv[1:])
    for arg in args:
        if arg == "-o":
            out = next(args, None)
        elif arg in LEVELS:
            level = LEVELS[arg]
        elif arg == "--converge":
            converge = True
        elif arg in STRIP:
            strip.append(arg[2:].encode())
        elif arg.startswith("--enable-") and arg[len("--enable-"):] in FEATURES:
            feature = getattr(lib, "BinaryenFeature" + FEATURES[arg[len("--enable-"):]])
            feature.restype = ctypes.c_uint32
            features |= feature()
        elif source is None and not arg.startswith("-"):
            source = arg
        else:
            fail(f"unsupported argument {arg!r}")
    if source is None or out is None or level is None:
        fail("needs IN, -o OUT and an -O level")

    with open(source, "rb") as f:
        data = f.read()
    module = lib.BinaryenModuleRead(data, len(data))
    if not module:
        fail(f"{source}: not a module binaryen can read")
    # As wasm-opt: the features the module's target_features section names, plus --enable-….
    lib.BinaryenModuleSetFeatures(module, lib.BinaryenModuleGetFeatures(module) | features)
    if not lib.BinaryenModuleValidate(module):
        fail(f"{source}: binaryen finds the module invalid (see above)")
    if strip:
        lib.BinaryenModuleRunPasses(module, (ctypes.c_char_p * len(strip))(*strip), len(strip))
    lib.BinaryenSetOptimizeLevel(level[0])
    lib.BinaryenSetShrinkLevel(level[1])
    lib.BinaryenSetDebugInfo(0)
    lib.BinaryenModuleOptimize(module)
    data = write(lib, module)
    if converge:
        # As wasm-opt --converge: run the passes again until the binary stops shrinking, and keep
        # the last result (its bytes are already written: the size was measured on them).
        while True:
            lib.BinaryenModuleOptimize(module)
            size, data = len(data), write(lib, module)
            if len(data) >= size:
                break
    if not lib.BinaryenModuleValidate(module):
        fail("binaryen's output does not validate")
    lib.BinaryenModuleDispose(module)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
