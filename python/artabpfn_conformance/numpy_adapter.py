"""Example adapter: the attention contracts and the merge of partial states in NumPy, written as
fast attention kernels are: a key-blocked online softmax (64 keys a block; each block's scores,
the running max raised block by block, the running sum and output rescaled when it rises).

    python3 -m artabpfn_conformance.run VECTORS RESULTS --adapter artabpfn_conformance.numpy_adapter:adapter
    artabpfn check VECTORS --results RESULTS --contracts shared_context_attention,buffer_attention_decode,\\
        buffer_attention_teacher_forcing,fused_attention,merge_states [--precision P]

ARTABPFN_PRECISION (default float32) picks the arithmetic; the adapters float32, tf32, bf16 and
fp16 of this module fix it instead:
    float32  NumPy float32 throughout;
    tf32     the operands of both products (Q and K, P and V) rounded to TF32 (10 explicit
             mantissa bits, ties away from zero), products and sums in float32;
    bf16     the inputs and the softmax probabilities cast to ml_dtypes.bfloat16 (bf16) or
    fp16     numpy.float16 (fp16) before the products, products and sums in float32, the outputs
             returned in that dtype; the LSE float32.
bf16 needs ml_dtypes (PyPI); without it that precision raises a clear error.

ARTABPFN_MUTANT=<name> plants one fault, for the mutation tests (MUTANTS: those that apply here;
bf16_accumulate only in bf16, fp16_score_overflow only in fp16).
"""

import os

import numpy as np

from .precisions import adapters_for

F32 = np.float32
LN2 = F32(np.log(2.0))
BLOCK = 64  # keys per block of the online softmax
CONTRACTS = ("shared_context_attention", "buffer_attention_decode", "buffer_attention_teacher_forcing",
             "fused_attention", "merge_states")
MUTANTS = {  # name: the precision it is planted in
    "tf32_context": "float32", "nan_empty_context": "float32", "first_sample_context": "float32",
    "no_score_scale": "float32", "target_sees_itself": "float32", "lse_base2": "float32",
    "no_rescale": "float32", "last_block_mask_plus_one": "float32", "last_block_mask_minus_one": "float32",
    "lse_first_block_max": "float32", "tf_mask_tile_boundary": "float32",
    "bf16_accumulate": "bf16", "fp16_score_overflow": "fp16",
}
MUTANT = os.environ.get("ARTABPFN_MUTANT", "")


def _fault(name):
    return MUTANT == name


def _tf32(x):
    """Rounds float32 values to a 10-bit mantissa (TF32), ties away from zero."""
    x = np.ascontiguousarray(x, dtype=F32)
    rounded = ((x.view(np.uint32) + np.uint32(0x1000)) & np.uint32(0xFFFFE000)).view(F32)
    return np.where(np.isfinite(x), rounded, x)


def _format_dtype(precision):
    if precision == "fp16":
        return np.float16
    if precision == "bf16":
        try:
            import ml_dtypes
        except ImportError:
            raise RuntimeError("precision bf16 needs the ml_dtypes package (pip install ml_dtypes)") from None
        return ml_dtypes.bfloat16
    return None


class Arithmetic:
    """How a precision rounds: operands of the products, the format's outputs, and the faults that
    change what the sums accumulate in and how the scores are stored."""

    def __init__(self, precision, operands=None):
        self.precision = precision
        self.operands = operands or precision  # tf32_context: TF32 operands in a float32 run
        self.dtype = _format_dtype(precision)
        self.operand_dtype = _format_dtype(self.operands)

    def operand(self, x):
        if self.operands == "tf32":
            return _tf32(x)
        if self.operand_dtype is not None:
            return np.asarray(x).astype(self.operand_dtype).astype(F32)
        return np.asarray(x, dtype=F32)

    def output(self, x):
        return x.astype(self.dtype) if self.dtype is not None else x.astype(F32)


def _sum_rounding():
    """bf16_accumulate: a function rounding the running sum and output to bfloat16 (else None)."""
    if not _fault("bf16_accumulate"):
        return None
    dtype = _format_dtype("bf16")
    return lambda x: x.astype(dtype).astype(F32)


def _attend(q, phases, arithmetic, nan_if_empty=False):
    """Online softmax of q [N, H, Lq, Dh] over the phases' keys, BLOCK keys at a time. A phase is
    (k, v, limits, length_mask, arithmetic): k, v [N or 1, H, S, Dh]; row i sees its first limits[i]
    keys; length_mask: limits is the phase's length for every row (the context, or the buffer under
    the decode mask), the mask the last_block_mask faults get wrong. Returns out [N, H, Lq, Dh] in
    the precision's format and the natural-log lse [N, H, Lq] float32."""
    n, heads, lq, dh = q.shape
    scale = F32(1.0) if _fault("no_score_scale") else F32(1.0) / np.sqrt(F32(dh))
    round_sum = _sum_rounding()
    m = np.full((n, heads, lq), -np.inf, F32)
    first_block_max = np.full((n, heads, lq), -np.inf, F32)
    seen = np.zeros((n, heads, lq), bool)
    l = np.zeros((n, heads, lq), F32)
    o = np.zeros((n, heads, lq, dh), F32)
    for k, v, limits, length_mask, a in phases:
        qa, ka, va = a.operand(q), a.operand(k), a.operand(v)
        limits = np.asarray(limits, dtype=np.int64)
        count = int(limits.max()) if limits.size else 0
        for j0 in range(0, count, BLOCK):
            kb, vb = ka[:, :, j0:j0 + BLOCK], va[:, :, j0:j0 + BLOCK]
            width = kb.shape[2]
            visible_end = limits.copy()
            padding_key = False  # the block's zero-filled slot past the length counted as a key
            if length_mask and j0 + BLOCK >= count:
                if _fault("last_block_mask_minus_one"):
                    visible_end -= 1
                padding_key = _fault("last_block_mask_plus_one") and count < j0 + BLOCK
            visible = (j0 + np.arange(width))[None, :] < visible_end[:, None]  # [Lq, width]
            scores = np.matmul(qa, np.swapaxes(kb, -1, -2)) * scale
            if _fault("fp16_score_overflow"):  # scores kept in float16: infinite past 65504
                with np.errstate(over="ignore"):
                    scores = scores.astype(np.float16).astype(F32)
            s = np.where(visible, scores, F32(-np.inf))
            if padding_key:  # a zero key: score 0, value 0
                s = np.concatenate([s, np.zeros(s.shape[:-1] + (1,), F32)], axis=-1)
                vb = np.concatenate([vb, np.zeros(vb.shape[:2] + (1, dh), F32)], axis=2)
                visible = np.concatenate([visible, np.ones((lq, 1), bool)], axis=1)
            block_max = s.max(axis=-1)
            has = np.broadcast_to(visible.any(axis=1), block_max.shape)
            first_block_max = np.where(has & ~seen, block_max, first_block_max)
            seen |= has
            m_new = np.where(has, np.maximum(m, block_max), m)
            with np.errstate(invalid="ignore"):
                alpha = np.where(has, np.exp(m - m_new), F32(1.0)).astype(F32)  # 0 for a first block
                p = np.where(visible, np.exp(s - m_new[..., None]), F32(0.0)).astype(F32)
            rescaled = o if _fault("no_rescale") else alpha[..., None] * o
            pa = a.operand(p)
            if round_sum is None:
                l = alpha * l + p.sum(axis=-1, dtype=F32)
                o = rescaled + np.matmul(pa, vb)
            else:  # one key at a time, every partial sum rounded
                l, o = round_sum(alpha * l), round_sum(rescaled)
                for j in range(p.shape[-1]):
                    l = round_sum(l + p[..., j])
                    o = round_sum(o + pa[..., j, None] * vb[:, :, None, j, :])
            m = m_new
    empty = ~seen
    with np.errstate(divide="ignore", invalid="ignore"):
        out = o / l[..., None]
        lse = (first_block_max if _fault("lse_first_block_max") else m) + np.log(l)
    if not nan_if_empty:  # a row that saw no key: (0, -inf)
        out = np.where(empty[..., None], F32(0.0), out)
        lse = np.where(empty, F32(-np.inf), lse)
    if _fault("lse_base2"):
        lse = lse / LN2
    return arithmetic.output(out), lse.astype(F32)


def _context_arithmetic(arithmetic):
    if _fault("tf32_context") and arithmetic.precision == "float32":
        return Arithmetic("float32", operands="tf32")
    return arithmetic


def _task_groups(task_of_sample):
    tasks = np.asarray(task_of_sample, dtype=np.int64)
    if _fault("first_sample_context"):
        tasks = np.full_like(tasks, tasks[0])
    return [(int(t), np.nonzero(tasks == t)[0]) for t in np.unique(tasks)]


def _buffer_limits(queries, length, teacher_forcing):
    """Keys of the buffer each query row sees (kernels/attention.hpp), as the mask faults change it."""
    if not teacher_forcing:
        return np.full(queries, length, np.int64)
    i = np.arange(queries)
    limits = np.where(i < length, i + 1, i - length)  # buffer i sees 0..i, target t sees 0..t-1
    if _fault("target_sees_itself"):
        limits = np.where(i >= length, limits + 1, limits)
    if _fault("tf_mask_tile_boundary"):  # the tile that starts at a limit on a tile boundary taken as visible
        on_boundary = (limits > 0) & (limits % BLOCK == 0) & (limits < length)
        limits = np.where(on_boundary, np.minimum(limits + BLOCK, length), limits)
    return limits


def _results(q_shape, arithmetic):
    out = np.zeros(q_shape, arithmetic.dtype or F32)
    lse = np.full(q_shape[:3], -np.inf, F32)
    return out, lse


def shared_context_attention(q, context_k, context_v, context_len, task_of_sample, arithmetic):
    """q [B, H, Lq, Dh]; context_k/v [T, H, Nc_max, Dh] (task t's first context_len[t] rows);
    task_of_sample [B]. Returns out [B, H, Lq, Dh] and the natural-log lse [B, H, Lq]."""
    out, lse = _results(q.shape, arithmetic)
    for t, rows in _task_groups(task_of_sample):
        nc = int(context_len[t])
        phase = (context_k[None, t, :, :nc], context_v[None, t, :, :nc], np.full(q.shape[2], nc), True,
                 _context_arithmetic(arithmetic))
        out[rows], lse[rows] = _attend(q[rows], [phase], arithmetic, nan_if_empty=_fault("nan_empty_context"))
    return out, lse


def buffer_attention(q, buffer_k, buffer_v, buffer_len, teacher_forcing, arithmetic):
    """q [B, H, Lq, Dh]; buffer_k/v [B, H, capacity, Dh], the first buffer_len rows in use."""
    length = int(buffer_len[0])
    phase = (buffer_k, buffer_v, _buffer_limits(q.shape[2], length, teacher_forcing), not teacher_forcing, arithmetic)
    return _attend(q, [phase], arithmetic)


def fused_attention(q, context_k, context_v, context_len, task_of_sample, buffer_k, buffer_v, buffer_len,
                    teacher_forcing, arithmetic):
    """One softmax over the sample's task's context, then its visible buffer rows."""
    out, lse = _results(q.shape, arithmetic)
    length = int(buffer_len[0])
    limits = _buffer_limits(q.shape[2], length, teacher_forcing)
    for t, rows in _task_groups(task_of_sample):
        nc = int(context_len[t])
        context = (context_k[None, t, :, :nc], context_v[None, t, :, :nc], np.full(q.shape[2], nc), True,
                   _context_arithmetic(arithmetic))
        buffer = (buffer_k[rows], buffer_v[rows], limits, not teacher_forcing, arithmetic)
        out[rows], lse[rows] = _attend(q[rows], [context, buffer], arithmetic)
    return out, lse


def merge_states(out1, lse1, out2, lse2, arithmetic):
    """(o1, lse1) + (o2, lse2) over disjoint key sets: lse = logaddexp, out weighted; two empty
    parts (lse -inf) give (0, -inf). In bf16 and fp16 the partial outputs are read in the format."""
    lse1, lse2 = lse1.astype(F32), lse2.astype(F32)
    o1, o2 = out1.astype(F32), out2.astype(F32)
    if arithmetic.dtype is not None:
        o1, o2 = arithmetic.operand(o1), arithmetic.operand(o2)
    m = np.maximum(lse1, lse2)
    empty = m == -np.inf
    shift = np.where(empty, F32(0.0), m)
    with np.errstate(divide="ignore", invalid="ignore"):
        wa, wb = np.exp(lse1 - shift), np.exp(lse2 - shift)
        total = wa + wb
        ca = np.where(empty, F32(0.0), wa / total).astype(F32)
        cb = np.where(empty, F32(0.0), wb / total).astype(F32)
        lse = np.where(empty, F32(-np.inf), shift + np.log(total)).astype(F32)
    out = ca[:, None] * o1 + cb[:, None] * o2
    if _fault("lse_base2"):
        lse = lse / LN2
    return arithmetic.output(out), lse


def run(contract, inputs, precision):
    """One case of `contract` in `precision`: {output: array}, or None for a contract not here."""
    if MUTANT:
        if MUTANT not in MUTANTS:
            raise ValueError(f"ARTABPFN_MUTANT={MUTANT} does not apply to this adapter (it has {', '.join(MUTANTS)})")
        if MUTANTS[MUTANT] != "float32" and MUTANTS[MUTANT] != precision:
            raise ValueError(f"ARTABPFN_MUTANT={MUTANT} is a fault of a {MUTANTS[MUTANT]} kernel, not {precision}")
    a = Arithmetic(precision)
    x = inputs
    if contract == "shared_context_attention":
        out, lse = shared_context_attention(x["q"], x["context_k"], x["context_v"], x["context_len"],
                                            x["task_of_sample"], a)
    elif contract in ("buffer_attention_decode", "buffer_attention_teacher_forcing"):
        out, lse = buffer_attention(x["q"], x["buffer_k"], x["buffer_v"], x["buffer_len"],
                                    contract == "buffer_attention_teacher_forcing", a)
    elif contract == "fused_attention":
        out, lse = fused_attention(x["q"], x["context_k"], x["context_v"], x["context_len"], x["task_of_sample"],
                                   x["buffer_k"], x["buffer_v"], x["buffer_len"], bool(x["teacher_forcing"][0]), a)
    elif contract == "merge_states":
        out, lse = merge_states(x["out1"], x["lse1"], x["out2"], x["lse2"], a)
    else:
        return None
    return {"out": out, "lse": lse}


# The runner's entry points: `adapter` in the precision ARTABPFN_PRECISION names (default
# float32), the others in theirs.
adapter, float32, tf32, bf16, fp16 = adapters_for(run)
