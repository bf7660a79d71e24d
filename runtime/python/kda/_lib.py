"""ctypes bindings of the kda C library (runtime/include/kda/kda.h).

Only this module knows the C layout; the rest of the package talks to it
through `forward_args()` and `reference_forward()`. The library is found, in
order, at $KDA_LIBRARY, next to this package, or in the source tree's build
directory.
"""

import ctypes
import os
import pathlib

# Enum values of kda.h (append-only there, so stable here).
DTYPE_FLOAT32, DTYPE_BFLOAT16, DTYPE_FLOAT16, DTYPE_FLOAT64 = 0, 1, 2, 3
DTYPE_INT32, DTYPE_INT64 = 4, 5
GATE_PRECOMPUTED, GATE_SOFTPLUS, GATE_LOWER_BOUND = 0, 1, 2
BETA_PLAIN, BETA_SIGMOID, BETA_SIGMOID_NEG_EIGVAL = 0, 1, 2
STATE_KV, STATE_VK = 0, 1
OK = 0
ERROR_MESSAGE_SIZE = 512


class Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int)]


def tensor(x, code):
    """The kda_tensor viewing torch tensor `x` as dtype `code`; None is absent."""
    return Tensor(x.data_ptr() if x is not None else None, code)


# Runs of fields kda_forward_args and kda_decode_args share (kda.h), in
# their C order.
_INPUT_FIELDS = [(name, Tensor) for name in ("q", "k", "v", "g", "beta", "A_log", "dt_bias")]
_MODE_FIELDS = [
    ("scale", ctypes.c_double),
    ("gate", ctypes.c_int),
    ("lower_bound", ctypes.c_double),
    ("qk_l2norm", ctypes.c_int),
    ("beta_mode", ctypes.c_int),
    ("state_layout", ctypes.c_int),
]


class ForwardArgs(ctypes.Structure):
    _fields_ = [
        ("batch", ctypes.c_int64),
        ("seq_len", ctypes.c_int64),
        ("num_heads", ctypes.c_int64),
        ("num_value_heads", ctypes.c_int64),
        ("head_dim_k", ctypes.c_int64),
        ("head_dim_v", ctypes.c_int64),
        ("num_seqs", ctypes.c_int64),
        *_INPUT_FIELDS,
        ("initial_state", Tensor),
        ("cu_seqlens", Tensor),
        ("o", Tensor),
        ("final_state", Tensor),
        *_MODE_FIELDS,
        ("intermediate_states", Tensor),
        ("intermediate_interval", ctypes.c_int64),
    ]


class DecodeArgs(ctypes.Structure):
    _fields_ = [
        ("num_seqs", ctypes.c_int64),
        ("num_heads", ctypes.c_int64),
        ("num_value_heads", ctypes.c_int64),
        ("head_dim_k", ctypes.c_int64),
        ("head_dim_v", ctypes.c_int64),
        ("pool_size", ctypes.c_int64),
        *_INPUT_FIELDS,
        ("state_indices", Tensor),
        ("state_pool", Tensor),
        ("o", Tensor),
        *_MODE_FIELDS,
    ]


class Error(ctypes.Structure):
    _fields_ = [("message", ctypes.c_char * ERROR_MESSAGE_SIZE)]


class KDAError(RuntimeError):
    """A kda C call failed; `status` is the kda_status name."""

    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status


def _candidates():
    env = os.environ.get("KDA_LIBRARY")
    if env:
        yield pathlib.Path(env)
        return
    here = pathlib.Path(__file__).resolve().parent
    yield here / "libkda.so"
    yield here.parents[2] / "build" / "lib" / "libkda.so"


def _load():
    tried = []
    for path in _candidates():
        tried.append(str(path))
        if path.exists():
            lib = ctypes.CDLL(str(path))
            lib.kda_status_string.restype = ctypes.c_char_p
            lib.kda_status_string.argtypes = [ctypes.c_int]
            lib.kda_forward_args_init.restype = None
            lib.kda_forward_args_init.argtypes = [ctypes.POINTER(ForwardArgs)]
            lib.kda_reference_forward.restype = ctypes.c_int
            lib.kda_reference_forward.argtypes = [
                ctypes.POINTER(ForwardArgs), ctypes.POINTER(Error)]
            lib.kda_version_number.restype = ctypes.c_int
            lib.kda_decode_args_init.restype = None
            lib.kda_decode_args_init.argtypes = [ctypes.POINTER(DecodeArgs)]
            lib.kda_reference_decode.restype = ctypes.c_int
            lib.kda_reference_decode.argtypes = [
                ctypes.POINTER(DecodeArgs), ctypes.POINTER(Error)]
            _declare_gpu(lib)
            return lib
    raise ImportError(
        "kda: cannot find the kda C library (libkda.so); build it with "
        "`cmake --build build` or point KDA_LIBRARY at it. Tried: "
        + ", ".join(tried))


def _declare_gpu(lib):
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    lib.kda_context_create.restype = ctypes.c_int
    lib.kda_context_create.argtypes = [ctypes.c_int, cp, ctypes.POINTER(vp),
                                       ctypes.POINTER(Error)]
    lib.kda_context_destroy.restype = None
    lib.kda_context_destroy.argtypes = [vp]
    lib.kda_context_last_error.restype = cp
    lib.kda_context_last_error.argtypes = [vp]
    lib.kda_bundle_load.restype = ctypes.c_int
    lib.kda_bundle_load.argtypes = [vp, cp, ctypes.POINTER(vp)]
    lib.kda_bundle_destroy.restype = None
    lib.kda_bundle_destroy.argtypes = [vp]
    lib.kda_decode.restype = ctypes.c_int
    lib.kda_decode.argtypes = [vp, ctypes.POINTER(DecodeArgs), vp]
    lib.kda_forward.restype = ctypes.c_int
    lib.kda_forward.argtypes = [vp, ctypes.POINTER(ForwardArgs), vp, ctypes.c_size_t, vp]
    lib.kda_forward_workspace_size.restype = ctypes.c_int
    lib.kda_forward_workspace_size.argtypes = [vp, ctypes.POINTER(ForwardArgs),
                                               ctypes.POINTER(ctypes.c_size_t)]


_lib = None


def library():
    """The loaded C library (loaded on first use)."""
    global _lib
    if _lib is None:
        _lib = _load()
    return _lib


def forward_args():
    """A kda_forward_args with the C defaults."""
    args = ForwardArgs()
    library().kda_forward_args_init(ctypes.byref(args))
    return args


class Context:
    """A kda_context on one CUDA device (the device's primary context)."""

    def __init__(self, device_index):
        lib = library()
        handle = ctypes.c_void_p()
        error = Error()
        status = lib.kda_context_create(device_index, None, ctypes.byref(handle),
                                        ctypes.byref(error))
        if status != OK:
            raise KDAError(lib.kda_status_string(status).decode(),
                           error.message.decode(errors="replace"))
        self.handle = handle

    def fail(self, status):
        lib = library()
        raise KDAError(lib.kda_status_string(status).decode(),
                       lib.kda_context_last_error(self.handle).decode(errors="replace"))

    def __del__(self):
        if getattr(self, "handle", None):
            library().kda_context_destroy(self.handle)


class Bundle:
    """A kernel bundle loaded on a context."""

    def __init__(self, context, path):
        self.context = context
        handle = ctypes.c_void_p()
        status = library().kda_bundle_load(context.handle, str(path).encode(),
                                           ctypes.byref(handle))
        if status != OK:
            context.fail(status)
        self.handle = handle

    def workspace_size(self, args):
        """Bytes of device workspace forward(args, ...) needs (0: none)."""
        size = ctypes.c_size_t()
        status = library().kda_forward_workspace_size(self.handle, ctypes.byref(args),
                                                      ctypes.byref(size))
        if status != OK:
            self.context.fail(status)
        return size.value

    def forward(self, args, stream, workspace=None, workspace_bytes=0):
        """kda_forward; `workspace` is a device address (an int) or None."""
        status = library().kda_forward(self.handle, ctypes.byref(args),
                                       ctypes.c_void_p(workspace), workspace_bytes,
                                       ctypes.c_void_p(stream))
        if status != OK:
            self.context.fail(status)

    def decode(self, args, stream):
        status = library().kda_decode(self.handle, ctypes.byref(args),
                                      ctypes.c_void_p(stream))
        if status != OK:
            self.context.fail(status)

    def __del__(self):
        if getattr(self, "handle", None):
            library().kda_bundle_destroy(self.handle)


def decode_args():
    """A kda_decode_args with the C defaults."""
    args = DecodeArgs()
    library().kda_decode_args_init(ctypes.byref(args))
    return args


def reference_decode(args):
    """Runs kda_reference_decode; raises KDAError with the C message."""
    lib = library()
    error = Error()
    status = lib.kda_reference_decode(ctypes.byref(args), ctypes.byref(error))
    if status != OK:
        raise KDAError(lib.kda_status_string(status).decode(),
                       error.message.decode(errors="replace"))


def reference_forward(args):
    """Runs kda_reference_forward; raises KDAError with the C message."""
    lib = library()
    error = Error()
    status = lib.kda_reference_forward(ctypes.byref(args), ctypes.byref(error))
    if status != OK:
        raise KDAError(lib.kda_status_string(status).decode(),
                       error.message.decode(errors="replace"))
