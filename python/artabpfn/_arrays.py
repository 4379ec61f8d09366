"""Arrays in and out: NumPy arrays, PyTorch tensors (CPU or CUDA, through DLPack) or anything
NumPy converts. Results come back as the kind of a given argument: a NumPy array, or a PyTorch
tensor on that argument's device. PyTorch is imported only when a tensor is given."""

import numpy as np


def _is_torch(x):
    return type(x).__module__.split(".")[0] == "torch"


class Kind:
    """Where results go: NumPy, or PyTorch on a device."""

    def __init__(self, example):
        self.torch_device = example.device if _is_torch(example) else None

    def wrap(self, array):
        if self.torch_device is None:
            return array
        import torch

        return torch.from_dlpack(np.ascontiguousarray(array)).to(self.torch_device)


def host_array(x, name, dtype):
    """`x` as a C-ordered host array of `dtype` (float64 exactly widens every float format; int64
    for lengths). A CUDA tensor is copied to the host; a tensor that is not numeric is refused."""
    if _is_torch(x):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()  # exact: every bfloat16 is a float32
        x = np.from_dlpack(x.contiguous())
    try:
        array = np.asarray(x)
        if array.dtype.kind == "V" and array.dtype.names is None:  # ml_dtypes' bfloat16 and float8 formats
            array = array.astype(np.float64)  # exact, as for the IEEE formats
        if array.dtype.kind not in "fiub":
            raise TypeError(f"dtype {array.dtype}")
        if np.dtype(dtype).kind == "i" and array.dtype.kind == "f":
            if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
                raise TypeError("values that are not integers")
        return np.ascontiguousarray(array, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"'{name}' is not a numeric array ({e})") from None
