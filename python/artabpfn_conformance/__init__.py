"""Conformance vectors of artabpfn for any implementation (docs/conformance_vectors.md).

Depends only on numpy and safetensors. ``python3 -m artabpfn_conformance.run`` loops over a
vectors directory, calls an adapter per case and writes the results that ``artabpfn check``
compares with the frozen tolerances.
"""

from .vectors import CONTRACT_INPUTS, load_case, load_index, load_weights  # noqa: F401
