"""artabpfn from Python: the CUDA inference engine and the double reference of autoregressive
TabPFN, and the conformance check for other implementations (docs/python.md).

    import artabpfn
    m = artabpfn.Model.load("fixtures/peer/paper_weights.safetensors")
    logp = m.density(x_context, y_context, x_target, y_target)   # [T, Nt]
    ys = m.sample(x_context, y_context, x_target, samples=100, seed=1)  # [T, S, Nt]

Submodules: ``artabpfn.reference`` (the double reference's primitives and jobs),
``artabpfn.conformance`` (vectors, adapters, the checker; a pytest plugin), ``artabpfn.testing``
(Hypothesis strategies and ``assert_within_contract``).
"""

from . import _core
from .model import Model, load_inputs

__version__ = "0.1.0"
__all__ = ["Model", "load_inputs", "built_with_cuda", "cuda_available", "cuda_unavailable_reason"]


def built_with_cuda() -> bool:
    """Whether this build has the CUDA engine (nvcc was found when it was built)."""
    return _core.built_with_cuda()


def cuda_unavailable_reason() -> str:
    """Why the CUDA engine cannot run now ("no NVIDIA driver found", ...); "" when it can."""
    return _core.cuda_unavailable_reason()


def cuda_available() -> bool:
    """Whether the CUDA engine can run now: built with CUDA and a usable GPU present."""
    return cuda_unavailable_reason() == ""
