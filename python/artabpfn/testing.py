"""Property tests of attention implementations against the double reference, with Hypothesis
(install it: ``pip install hypothesis``).

Strategies draw each attention contract's inputs in the conformance vectors' layout
(``artabpfn.reference``), float32 values, covering what breaks kernels: empty contexts (Nc 0),
head dims that are not powers of two, batches across tile boundaries, one source dominating the
scores, several tasks of different Nc in one batch, and realistic sizes within a size budget;
``model_job_inputs`` draws the model jobs' inputs (prefill_kv, the densities, the mixture head).
``assert_within_contract`` applies the project's tolerance rule: the largest error of each output
against the double reference on these very inputs may be at most factor x the error of the plain
implementation in that precision + a floor of a few float32 ulps (docs/accuracy.md).

    @given(attention_inputs("shared_context_attention"))
    def test_mine(inputs):
        assert_within_contract(my_attention(**inputs), inputs, "shared_context_attention")
"""

import numpy as np

from . import _core
from ._arrays import host_array
from .conformance import CONTRACTS, failed_output_line
from .reference import ATTENTION_CONTRACTS, MODEL_CONTRACTS, split_inputs

try:
    from hypothesis import strategies as st
except ImportError:  # assert_within_contract works without it
    st = None

# The precisions the C++ rule judges in: float32, tf32, bf16, fp16 (tolerance/precision.hpp).
PRECISIONS = tuple(_core.conformance_precisions())

# Values at which kernels change tiles or paths: batch rows, context lengths and buffer lengths
# are drawn near them as well as anywhere in range.
TILE_EDGES = (1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257)
# Head dims, not all powers of two.
HEAD_DIMS = (1, 3, 5, 7, 8, 12, 16, 24, 31, 32, 33, 48, 64, 96, 128)


def _require_hypothesis():
    if st is None:
        raise ImportError("artabpfn.testing's strategies need Hypothesis: pip install hypothesis")


def _near_edges(low, high):
    """An integer in [low, high], often at a tile edge."""
    edges = [n for n in TILE_EDGES if low <= n <= high] + [low, high]
    return st.one_of(st.sampled_from(sorted(set(edges))), st.integers(low, high))


def _normal(rng, shape):
    return rng.standard_normal(shape).astype(np.float32)


def _dominate(rng, q, keys, rows):
    """Scores ~1e3 above the rest for keys[..., rows, :]: queries u + 1e-3 n, those keys
    1e3 sqrt(Dh) (1 + 2e-3 z) u + n, with u a unit vector per head (as the vectors' generator)."""
    heads, dh = q.shape[1], q.shape[-1]
    for h in range(heads):
        u = rng.standard_normal(dh)
        u /= np.linalg.norm(u)
        q[:, h] = (u + 1e-3 * rng.standard_normal(q[:, h].shape)).astype(np.float32)
        scale = 1000.0 * np.sqrt(dh) * (1.0 + 2e-3 * rng.standard_normal(keys[:, h, rows, :1].shape))
        keys[:, h, rows] = (scale * u + rng.standard_normal(keys[:, h, rows].shape)).astype(np.float32)


# (Without Hypothesis the strategies are plain functions that attention_inputs never reaches.)
@st.composite if st else (lambda f: f)
def _attention_case(draw, contract, max_elements, dominated):
    context = contract in ("shared_context_attention", "fused_attention")
    buffer = contract != "shared_context_attention"
    teacher_forcing = contract == "buffer_attention_teacher_forcing" or (
        contract == "fused_attention" and draw(st.booleans()))
    heads = draw(st.sampled_from((1, 2, 4)))
    dh = draw(st.sampled_from(HEAD_DIMS))
    batch = draw(_near_edges(1, 300))
    tasks = draw(st.integers(1, 4)) if context else 1
    context_len = [draw(st.one_of(st.just(0), _near_edges(0, 1100))) for _ in range(tasks)] if context else []
    length = draw(_near_edges(0, 200)) if buffer else 0
    capacity = length + draw(st.integers(0, 3)) if buffer else 0
    queries = 2 * length if teacher_forcing else draw(st.integers(1, 2))
    if teacher_forcing and queries == 0:
        length, capacity, queries = 1, max(capacity, 1), 2
    # Within the budget: fewer samples, then shorter contexts.
    def elements():
        return heads * dh * (batch * queries + 2 * tasks * max(context_len, default=0) + 2 * batch * capacity)
    while elements() > max_elements and batch > 1:
        batch = max(1, batch // 2)
    while elements() > max_elements and context_len and max(context_len) > 0:
        context_len = [n // 2 for n in context_len]
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q = _normal(rng, (batch, heads, queries, dh))
    inputs = {"q": q}
    if context:
        nc_max = max(context_len)
        inputs["context_k"] = _normal(rng, (tasks, heads, nc_max, dh))
        inputs["context_v"] = _normal(rng, (tasks, heads, nc_max, dh))
        for t, n in enumerate(context_len):  # padding rows are zero, as in the vectors
            inputs["context_k"][t, :, n:] = 0
            inputs["context_v"][t, :, n:] = 0
        inputs["context_len"] = np.array(context_len, np.int64)
        inputs["task_of_sample"] = rng.integers(0, tasks, batch).astype(np.int64)
    if buffer:
        inputs["buffer_k"] = _normal(rng, (batch, heads, capacity, dh))
        inputs["buffer_v"] = _normal(rng, (batch, heads, capacity, dh))
        inputs["buffer_len"] = np.array([length], np.int64)
    if contract == "fused_attention":
        inputs["teacher_forcing"] = np.array([int(teacher_forcing)], np.int64)
    if dominated if dominated is not None else draw(st.integers(0, 9)) == 0:
        source = "context_k" if context and (not buffer or draw(st.booleans())) else "buffer_k"
        _dominate(rng, q, inputs[source], slice(None))
    return inputs


@st.composite if st else (lambda f: f)
def _merge_case(draw, max_elements):
    rows = draw(_near_edges(1, 300))
    dh = draw(st.sampled_from(HEAD_DIMS))
    while rows * dh * 2 > max_elements and rows > 1:
        rows //= 2
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from((1.0, 10.0, 100.0)))
    empty = draw(st.sampled_from((0.0, 0.1, 0.5)))
    out1, out2 = _normal(rng, (rows, dh)), _normal(rng, (rows, dh))
    lse1 = (scale * rng.standard_normal(rows)).astype(np.float32)
    lse2 = (scale * rng.standard_normal(rows)).astype(np.float32)
    lse1[rng.random(rows) < empty] = -np.inf
    lse2[rng.random(rows) < empty] = -np.inf
    out1[np.isinf(lse1)] = 0  # the contract: an empty part's output is zero
    out2[np.isinf(lse2)] = 0
    return {"out1": out1, "lse1": lse1, "out2": out2, "lse2": lse2}


def attention_inputs(contract, *, max_elements=2_000_000, dominated=False):
    """A Hypothesis strategy of one contract's inputs (a dict of NumPy arrays: float32 values,
    int64 lengths), at most about `max_elements` values in all. dominated: True (one source's
    scores ~1e3 above the other's), False (ordinary scores), or None (one draw in ten dominated).
    Dominated scores are judged with the rule's factor 4, which has a tail (docs/python.md)."""
    _require_hypothesis()
    if contract not in ATTENTION_CONTRACTS:
        raise ValueError(f"'{contract}': the contracts with strategies are {', '.join(ATTENTION_CONTRACTS)}")
    if contract == "merge_states":
        return _merge_case(max_elements)
    return _attention_case(contract, max_elements, dominated)


@st.composite if st else (lambda f: f)
def _model_job_case(draw, contract, model, max_rows):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if contract == "mixture_parameters":
        rows = draw(_near_edges(1, max_rows))
        return {"z": _normal(rng, (rows, model.config["d_model"]))}
    tasks, features = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    context_len = [draw(st.one_of(st.just(0), st.integers(0, max_rows))) for _ in range(tasks)]
    target_len = [draw(st.integers(1, max(1, max_rows // 2))) for _ in range(tasks)]
    nc, nt = max(context_len), max(target_len)
    inputs = {"x_context": _normal(rng, (tasks, nc, features)), "y_context": _normal(rng, (tasks, nc)),
              "context_len": np.array(context_len, np.int64)}
    if contract != "prefill_kv":
        inputs["x_target"] = _normal(rng, (tasks, nt, features))
        inputs["target_len"] = np.array(target_len, np.int64)
        inputs["y_target"] = (1.5 * _normal(rng, (tasks, draw(st.integers(1, 2)), nt))).astype(np.float32)
    return inputs


def model_job_inputs(contract, model, *, max_rows=24):
    """A Hypothesis strategy of a model job's inputs for `model` (an artabpfn.Model): 1 to 3 tasks
    of different context sizes (0 among them) up to max_rows rows, 1 to 3 features, 1 or 2 value
    sets; mixture_parameters: rows z [n, D]. Small by default: the double reference runs the
    whole model."""
    _require_hypothesis()
    if contract not in MODEL_CONTRACTS:
        raise ValueError(f"'{contract}': the model jobs with strategies are {', '.join(MODEL_CONTRACTS)}")
    return _model_job_case(contract, model, max_rows)


def _outputs(got, contract):
    if isinstance(got, dict):
        return {name: host_array(value, name, np.float64) for name, value in got.items()}
    if contract not in CONTRACTS:
        raise ValueError(f"unknown contract '{contract}'")
    names = CONTRACTS[contract]["outputs"]
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        raise ValueError(f"{contract}: give its outputs as a dict or a tuple ({', '.join(names)})")
    return {name: host_array(value, name, np.float64) for name, value in zip(names, got)}


def assert_within_contract(got, inputs, contract, precision="float32", model=None):
    """Raises AssertionError unless each output of `got` (a dict by output name, or a tuple in the
    contract's order, e.g. (out, lse); NumPy arrays or PyTorch tensors) is within the rule's tolerance of the double reference on `inputs`:
    max |got - reference| <= factor x max |plain - reference| + floor, where plain is the plain
    implementation of `precision` (one of PRECISIONS; docs/precisions.md) on the same inputs,
    factor the contract's (4 where scores reach 100, whose own float32 rounding then dominates)
    and the floor a few ulps of max(1, max |reference|) in the output's format, as the vectors
    freeze it. Non-finite reference values must be matched exactly; NaN never passes. Returns the
    verdict (per output: max_error, limit, plain_error, worst element). The model jobs of
    artabpfn.reference.MODEL_CONTRACTS need `model`."""
    values, integers = split_inputs(inputs)
    verdict = _core.conformance_judge(contract, values, integers, _outputs(got, contract), precision,
                                      model._model if model is not None else None)
    if verdict["status"] != "pass":
        lines = [f"{contract} ({precision}): {verdict['message']}"]
        for o in verdict["outputs"]:
            if not o["ok"]:
                lines.append(failed_output_line(o, precision, verdict["factor"], verdict["floors"][o["output"]]))
        raise AssertionError("\n".join(lines))
    return verdict
