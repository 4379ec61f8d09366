"""The precisions of the conformance check, and the adapters of an implementation that computes in
any of them."""

import os

PRECISIONS = ("float32", "tf32", "bf16", "fp16")


def adapters_for(run):
    """For run(contract, inputs, precision): the adapter that follows ARTABPFN_PRECISION (default
    float32), then one adapter per precision, in the order of PRECISIONS."""

    def adapter(contract, inputs, case, weights):
        precision = os.environ.get("ARTABPFN_PRECISION") or "float32"
        if precision not in PRECISIONS:
            raise ValueError(f"ARTABPFN_PRECISION={precision} is not one of {', '.join(PRECISIONS)}")
        return run(contract, inputs, precision)

    def fixed(precision):
        def adapter_in(contract, inputs, case, weights):
            return run(contract, inputs, precision)

        adapter_in.__name__ = precision
        return adapter_in

    return (adapter,) + tuple(fixed(p) for p in PRECISIONS)
