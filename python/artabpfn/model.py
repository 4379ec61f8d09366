"""artabpfn.Model: the weights of one model and its jobs, density and sample, with the command
line's options. The jobs run in the same library as the command line (`artabpfn density` and
`artabpfn sample`), so the same inputs and seed give the same bits and bad input the same message
(as ValueError)."""

import warnings

import numpy as np

from . import _core
from ._arrays import Kind, _is_torch, host_array

_SAFETENSORS_DTYPES = {"float16": "F16", "float32": "F32", "float64": "F64", "int32": "I32", "int64": "I64"}


def _warn(notices):
    for message in notices:
        warnings.warn(f"artabpfn: {message}", stacklevel=3)


def _tensor_entry(name, value):
    """(name, safetensors dtype, shape, bytes) of one state_dict entry, in its own dtype."""
    if _is_torch(value):
        value = value.detach().cpu().contiguous()
        if str(value.dtype) == "torch.bfloat16":
            import torch

            return name, "BF16", list(value.shape), value.view(torch.int16).numpy().tobytes()
        value = np.from_dlpack(value)
    array = np.ascontiguousarray(np.asarray(value))
    dtype = _SAFETENSORS_DTYPES.get(array.dtype.name)
    if dtype is None:
        raise ValueError(f"state_dict: tensor '{name}' has dtype {array.dtype}, not one of "
                         f"{', '.join(_SAFETENSORS_DTYPES)}")
    return name, dtype, list(array.shape), array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()


def _inputs(**arrays):
    converted = {}
    for name, value in arrays.items():
        if value is None:
            continue
        integer = name.endswith("_len")
        converted[name] = host_array(value, name, np.int64 if integer else np.float64)
    return converted


class Model:
    """AR-TabPFN weights (a PyTorch state_dict), validated and ready for jobs.

    ``Model.load(path)`` reads a safetensors file; ``Model.from_state_dict(d, n_heads)`` takes
    tensors in memory. ``density`` and ``sample`` take NumPy arrays or PyTorch tensors (CPU or
    CUDA) and return the kind of ``x_target``."""

    def __init__(self, core_model):
        self._model = core_model
        self.last_run = None  # the job, backend, attention and precision the last call ran on
        _warn(core_model.notices)

    @classmethod
    def load(cls, path, n_heads=None):
        """Weights from a safetensors file (n_heads from its metadata unless given)."""
        return cls(_core.Model.load(str(path), n_heads))

    @classmethod
    def from_state_dict(cls, state_dict, n_heads):
        """Weights from a state_dict of NumPy arrays or PyTorch tensors (float16, bfloat16,
        float32; float64 is refused as in a file). The configuration is inferred from the shapes
        as for a file; a state_dict carries no metadata, so n_heads is needed."""
        return cls(_core.Model.from_tensors([_tensor_entry(k, v) for k, v in state_dict.items()], n_heads))

    @property
    def config(self):
        """d_model, n_heads, n_layers, d_ff, buffer_size, num_components."""
        return dict(self._model.config)

    def density(self, x_context, y_context, x_target, y_target, *, context_len=None, target_len=None,
                backend="cuda", attention=None, precision=None, progress=None):
        """log p(y_t | context, y_<t) of every target by teacher forcing.

        x_context [T, Nc, F], y_context [T, Nc], x_target [T, Nt, F], y_target [T, Nt] or
        [T, R, Nt] (R value sets; one task: drop T), context_len and target_len [T] for padded
        tasks. Returns y_target's layout, NaN past a task's target_len. backend "cuda" (the
        float32 engine; the double reference where no GPU is usable, with a warning), "cpu" (the
        engine's arithmetic of a precision on the CPU), "reference" or "reference-mp"; attention
        "fused", "split" or "reencode" (cuda); precision "float32", "mixed", "tf32" or "tf32x3"
        (cuda; "mixed" for density only), "float32", "tf32" or "tf32x3" (cpu). progress(done, total) is called as the job goes."""
        inputs = _inputs(x_context=x_context, y_context=y_context, x_target=x_target, y_target=y_target,
                         context_len=context_len, target_len=target_len)
        result = self._run("density", inputs, backend, attention, precision, 0, "0", progress)
        y_rank = inputs["y_target"].ndim
        single = inputs["x_target"].ndim == 2
        if y_rank == (1 if single else 2):  # one value set: [T, 1, Nt] -> [T, Nt]
            result = result[:, 0, :]
        if single:
            result = result[0]
        return Kind(x_target).wrap(result)

    def sample(self, x_context, y_context, x_target, *, samples, seed, context_len=None, target_len=None,
               backend="cuda", attention=None, precision=None, progress=None):
        """Joint samples y_0..y_{Nt-1} of every task with the Philox stream of docs/model.md: the
        same seed gives the same samples whatever the batch. Returns [T, S, Nt] ([S, Nt] for one
        task), NaN past a task's target_len. Options as density."""
        inputs = _inputs(x_context=x_context, y_context=y_context, x_target=x_target,
                         context_len=context_len, target_len=target_len)
        result = self._run("sample", inputs, backend, attention, precision, int(samples), str(seed), progress)
        if inputs["x_target"].ndim == 2:
            result = result[0]
        return Kind(x_target).wrap(result)

    def _run(self, job, inputs, backend, attention, precision, samples, seed, progress):
        if progress is not None and not callable(progress):
            raise ValueError("progress must be a function (done, total) or None")
        result, ran, notices = self._model.run(job, inputs, backend, attention or "", precision or "", samples, seed,
                                               progress, f"Model.{job}")
        _warn(notices)
        self.last_run = ran
        return result


def load_inputs(path):
    """The tasks of an inputs file as the command line reads them: x_context [T, Nc, F],
    y_context [T, Nc], x_target [T, Nt, F], y_target [T, R, Nt] (if present), context_len and
    target_len [T], as NumPy arrays."""
    return dict(_core.load_inputs(str(path)))
