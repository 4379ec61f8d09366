"""Example adapter: shared-context attention and the merge of partial states in plain NumPy
float32 (the two contracts a user of the vectors is most likely to reimplement first).

    python3 -m artabpfn_conformance.run VECTORS RESULTS --adapter artabpfn_conformance.numpy_adapter:adapter
    artabpfn check VECTORS --results RESULTS --contracts shared_context_attention,merge_states

ARTABPFN_MUTANT=<name> plants one fault, for the mutation tests (the ones that apply here):
tf32_context, nan_empty_context, first_sample_context, no_score_scale, lse_base2.
"""

import os

import numpy as np

F32 = np.float32
LN2 = F32(np.log(2.0))
MUTANTS = ("tf32_context", "nan_empty_context", "first_sample_context", "no_score_scale", "lse_base2")
MUTANT = os.environ.get("ARTABPFN_MUTANT", "")


def _fault(name):
    return MUTANT == name


def _tf32(x):
    """Rounds float32 values to a 10-bit mantissa (TF32), ties away from zero."""
    bits = np.ascontiguousarray(x, dtype=F32).view(np.uint32)
    rounded = ((bits + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(F32)
    return np.where(np.isfinite(x), rounded, x).astype(F32)


def shared_context_attention(q, context_k, context_v, context_len, task_of_sample):
    """q [B, H, Lq, Dh]; context_k/v [T, H, Nc_max, Dh] (task t's first context_len[t] rows);
    task_of_sample [B]. Returns out [B, H, Lq, Dh] and the natural-log lse [B, H, Lq]."""
    batch, heads, queries, dh = q.shape
    out = np.zeros(q.shape, F32)
    lse = np.full((batch, heads, queries), -np.inf, F32)
    scale = F32(1.0) if _fault("no_score_scale") else F32(1.0) / np.sqrt(F32(dh))
    tasks = np.asarray(task_of_sample, dtype=np.int64)
    if _fault("first_sample_context"):
        tasks = np.full_like(tasks, tasks[0])
    for t in np.unique(tasks):
        rows = np.nonzero(tasks == t)[0]
        nc = int(context_len[t])
        qt = q[rows].astype(F32)
        k = context_k[t, :, :nc, :].astype(F32)  # [H, nc, Dh]
        v = context_v[t, :, :nc, :].astype(F32)
        if nc == 0:
            if _fault("nan_empty_context"):  # dividing by the empty softmax denominator
                with np.errstate(invalid="ignore"):
                    out[rows] = np.zeros(qt.shape, F32) / F32(0.0)
            continue  # (0, -inf)
        if _fault("tf32_context"):
            qt, k, v = _tf32(qt), _tf32(k), _tf32(v)
        scores = np.matmul(qt, np.swapaxes(k, -1, -2)) * scale  # [n, H, Lq, nc]
        m = scores.max(axis=-1, keepdims=True)
        p = np.exp(scores - m)
        denominator = p.sum(axis=-1, keepdims=True, dtype=F32)
        if _fault("tf32_context"):
            p = _tf32(p)
        out[rows] = np.matmul(p, v) / denominator
        lse[rows] = (m + np.log(denominator))[..., 0]
    if _fault("lse_base2"):
        lse = lse / LN2
    return out, lse


def merge_states(out1, lse1, out2, lse2):
    """(o1, lse1) + (o2, lse2) over disjoint key sets: lse = logaddexp, out weighted; two empty
    parts (lse -inf) give (0, -inf)."""
    lse1, lse2 = lse1.astype(F32), lse2.astype(F32)
    m = np.maximum(lse1, lse2)
    empty = m == -np.inf
    shift = np.where(empty, F32(0.0), m)
    with np.errstate(divide="ignore", invalid="ignore"):
        wa, wb = np.exp(lse1 - shift), np.exp(lse2 - shift)
        total = wa + wb
        ca = np.where(empty, F32(0.0), wa / total).astype(F32)
        cb = np.where(empty, F32(0.0), wb / total).astype(F32)
        lse = np.where(empty, F32(-np.inf), shift + np.log(total)).astype(F32)
    out = ca[:, None] * out1.astype(F32) + cb[:, None] * out2.astype(F32)
    if _fault("lse_base2"):
        lse = lse / LN2
    return out.astype(F32), lse


def adapter(contract, inputs, case, weights):
    """The runner's entry point: the two contracts above, None (skipped) for the others."""
    if MUTANT and MUTANT not in MUTANTS:
        raise ValueError(f"ARTABPFN_MUTANT={MUTANT} does not apply to this adapter (it has {', '.join(MUTANTS)})")
    if contract == "shared_context_attention":
        out, lse = shared_context_attention(inputs["q"], inputs["context_k"], inputs["context_v"],
                                            inputs["context_len"], inputs["task_of_sample"])
        return {"out": out, "lse": lse}
    if contract == "merge_states":
        out, lse = merge_states(inputs["out1"], inputs["lse1"], inputs["out2"], inputs["lse2"])
        return {"out": out, "lse": lse}
    return None
