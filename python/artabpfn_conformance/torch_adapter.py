"""Example adapter: the attention contracts with PyTorch's
torch.nn.functional.scaled_dot_product_attention (SDPA), and the merge of partial states in torch.

    python3 -m artabpfn_conformance.run VECTORS RESULTS --adapter artabpfn_conformance.torch_adapter:bf16
    artabpfn check VECTORS --results RESULTS --contracts shared_context_attention,buffer_attention_decode,\\
        buffer_attention_teacher_forcing,fused_attention,merge_states --precision bf16

How each contract is called, inputs as the contract gives them:
    shared_context_attention   one SDPA call per task: its samples' query rows against its context
                               (no mask: the call a fast kernel serves);
    buffer_attention_*         one call per group of samples, each against its own buffer rows, with
                               the decode or teacher-forcing mask as a boolean attn_mask;
    fused_attention            one call per task and group of samples over [context; buffer rows];
    merge_states               torch arithmetic in float32.
SDPA does not return the LSE: it is torch.logsumexp of the masked scores q k^T / sqrt(Dh) computed by a
float32 matmul of the same operands (so with TF32 allowed, a TF32 product). A row that sees no key
gets (0, -inf).

The precision (the adapters float32, tf32, bf16, fp16 of this module, or `adapter` with
ARTABPFN_PRECISION, default float32):
    float32  float32 tensors, TF32 disabled (torch.backends.cuda.matmul.allow_tf32 and
             torch.backends.cudnn.allow_tf32 False, float32 matmul precision "highest");
    tf32     float32 tensors, TF32 allowed (both flags True, matmul precision "high");
    bf16     inputs cast to torch.bfloat16 (the merge's partial outputs too), outputs returned in it;
    fp16     the same with torch.float16.
The device: ARTABPFN_TORCH_DEVICE (default "cuda" where torch sees a GPU, else "cpu").
"""

import os

import numpy as np

from .precisions import adapters_for

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the module imports without torch; calling an adapter says what is missing
    torch = None

SAMPLES_PER_CALL = 64  # buffer and fused attention: samples per SDPA call (bounds the key copies)


def _device():
    return os.environ.get("ARTABPFN_TORCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")


def _configure(precision):
    """The tensor dtype of a precision, after setting PyTorch's TF32 switches for it."""
    if torch is None:
        raise RuntimeError("the PyTorch adapter needs torch (pip install torch)")
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.set_float32_matmul_precision("high" if tf32 else "highest")
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)


def _tensor(x, dtype):
    return torch.from_numpy(np.ascontiguousarray(x)).to(device=_device(), dtype=dtype)


def _numpy(x):
    return x.float().cpu().numpy()


def _attend(q, k, v, mask):
    """SDPA of q [N, H, L, Dh] over k, v [N, H, S, Dh] (mask [L, S]: True where a row sees a key, or
    None: every key), and the float32 LSE [N, H, L]; (0, -inf) where a row sees no key."""
    n, heads, rows, _ = q.shape
    if k.shape[2] == 0:
        return torch.zeros_like(q), torch.full((n, heads, rows), -float("inf"), device=q.device)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    scores = torch.matmul(q.float(), k.float().transpose(-1, -2)) / float(q.shape[-1]) ** 0.5
    if mask is not None:
        scores = scores.masked_fill(~mask, -float("inf"))
    lse = torch.logsumexp(scores, dim=-1)
    if mask is not None:
        seen = mask.any(dim=-1)  # [L]
        out = torch.where(seen[:, None], out, torch.zeros((), dtype=out.dtype, device=out.device))
        lse = torch.where(seen, lse, torch.full((), -float("inf"), device=lse.device))
    return out, lse


def _buffer_mask(queries, length, teacher_forcing, device):
    """[Lq, length]: buffer query i sees rows 0..i, target t rows 0..t-1 (teacher forcing); every
    query sees every row under the decode mask (None)."""
    if not teacher_forcing:
        return None
    i = torch.arange(queries, device=device)[:, None]
    j = torch.arange(length, device=device)[None, :]
    return torch.where(i < length, j <= i, j < i - length)


def shared_context_attention(x, dtype):
    q = _tensor(x["q"], dtype)
    batch, heads, queries, dh = q.shape
    out = torch.zeros_like(q)
    lse = torch.full((batch, heads, queries), -float("inf"), device=q.device)
    tasks = torch.from_numpy(np.asarray(x["task_of_sample"], dtype=np.int64))
    for t in torch.unique(tasks).tolist():
        rows = torch.nonzero(tasks == t)[:, 0].to(q.device)
        nc = int(x["context_len"][t])
        k = _tensor(x["context_k"][t:t + 1, :, :nc], dtype)  # [1, H, nc, Dh]
        v = _tensor(x["context_v"][t:t + 1, :, :nc], dtype)
        # The task's samples as query rows of one call: [1, H, n Lq, Dh].
        qt = q[rows].permute(1, 0, 2, 3).reshape(1, heads, -1, dh)
        o, l = _attend(qt, k, v, None)
        out[rows] = o.reshape(heads, -1, queries, dh).permute(1, 0, 2, 3)
        lse[rows] = l.reshape(heads, -1, queries).permute(1, 0, 2)
    return out, lse


def buffer_or_fused_attention(x, dtype, teacher_forcing, with_context):
    q = _tensor(x["q"], dtype)
    batch, heads, queries, dh = q.shape
    length = int(x["buffer_len"][0])
    out = torch.zeros_like(q)
    lse = torch.full((batch, heads, queries), -float("inf"), device=q.device)
    buffer_mask = _buffer_mask(queries, length, teacher_forcing, q.device)
    if with_context:
        tasks = np.asarray(x["task_of_sample"], dtype=np.int64)
        groups = [(int(t), np.nonzero(tasks == t)[0]) for t in np.unique(tasks)]
    else:
        groups = [(None, np.arange(batch))]
    for t, samples in groups:
        nc = int(x["context_len"][t]) if with_context else 0
        mask = buffer_mask
        if with_context and mask is not None:
            mask = torch.cat([torch.ones((queries, nc), dtype=torch.bool, device=q.device), mask], dim=1)
        for start in range(0, len(samples), SAMPLES_PER_CALL):
            rows = samples[start:start + SAMPLES_PER_CALL]
            k = _tensor(x["buffer_k"][rows, :, :length], dtype)
            v = _tensor(x["buffer_v"][rows, :, :length], dtype)
            if with_context:
                ck = _tensor(x["context_k"][t:t + 1, :, :nc], dtype).expand(len(rows), -1, -1, -1)
                cv = _tensor(x["context_v"][t:t + 1, :, :nc], dtype).expand(len(rows), -1, -1, -1)
                k, v = torch.cat([ck, k], dim=2), torch.cat([cv, v], dim=2)
            index = torch.from_numpy(rows).to(q.device)
            out[index], lse[index] = _attend(q[index], k.contiguous(), v.contiguous(), mask)
    return out, lse


def merge_states(x, dtype):
    """(o1, lse1) + (o2, lse2): lse = logaddexp, out weighted; two empty parts give (0, -inf)."""
    o1, o2 = _tensor(x["out1"], dtype).float(), _tensor(x["out2"], dtype).float()
    lse1, lse2 = _tensor(x["lse1"], torch.float32), _tensor(x["lse2"], torch.float32)
    m = torch.maximum(lse1, lse2)
    empty = m == -float("inf")
    shift = torch.where(empty, torch.zeros_like(m), m)
    wa, wb = torch.exp(lse1 - shift), torch.exp(lse2 - shift)
    total = wa + wb
    ca = torch.where(empty, torch.zeros_like(m), wa / total)
    cb = torch.where(empty, torch.zeros_like(m), wb / total)
    lse = torch.where(empty, m, shift + torch.log(total))
    return (ca[:, None] * o1 + cb[:, None] * o2).to(dtype), lse


def run(contract, inputs, precision):
    """One case of `contract` in `precision`: {output: array}, or None for a contract not here."""
    dtype = _configure(precision)
    with torch.no_grad():
        if contract == "shared_context_attention":
            out, lse = shared_context_attention(inputs, dtype)
        elif contract in ("buffer_attention_decode", "buffer_attention_teacher_forcing"):
            out, lse = buffer_or_fused_attention(inputs, dtype, contract == "buffer_attention_teacher_forcing", False)
        elif contract == "fused_attention":
            out, lse = buffer_or_fused_attention(inputs, dtype, bool(inputs["teacher_forcing"][0]), True)
        elif contract == "merge_states":
            out, lse = merge_states(inputs, dtype)
        else:
            return None
    return {"out": _numpy(out), "lse": _numpy(lse)}



# The runner's entry points: `adapter` in the precision ARTABPFN_PRECISION names (default
# float32), the others in theirs.
adapter, float32, tf32, bf16, fp16 = adapters_for(run)
