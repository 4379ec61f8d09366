#!/usr/bin/env python3
"""What PyTorch's and Triton's TF32 paths do with float32 operands (docs/precisions.md, "TF32:
round or truncate?"): each path multiplies 16 test values a by 1 and reads a x 1 back, where the
rounding of a to 10 explicit mantissa bits shows. Paths: torch.matmul with
torch.backends.cuda.matmul.allow_tf32 True (and False, the control), and a Triton kernel's tl.dot
with its default precision, input_precision="tf32" and "ieee" (the control). Prints one verdict
line per path and exits 0; a missing package or GPU is one "skipped" line.

    python3 conformance/tools/tf32_probe.py
"""

import numpy as np

ULP = 2.0 ** -10  # the TF32 ulp of 1


def test_values():
    v = [1 + 0.75 * ULP, 1 + 0.5 * ULP, 1 + 1.5 * ULP, 1 + 0.25 * ULP, 1 + 2.0 ** -20, 1 + 0.999 * ULP]
    v += [-x for x in v]
    v += [3 * (1 + 0.75 * ULP), -0.125 * (1 + 0.5 * ULP), 1e-3, -7.77e4]
    return np.array(v, dtype=np.float32)


def _drop(x, add):
    bits = x.view(np.uint32).astype(np.uint64)
    return ((bits + add) & 0xFFFFE000).astype(np.uint32).view(np.float32)


def _toward_zero(x):
    return _drop(x, 0)


def _directed(x, sign):
    away = _drop(x, 0x1FFF)
    return np.where((np.sign(x) == sign) & (_toward_zero(x) != x), away, _toward_zero(x))


MODELS = [
    ("rounds to nearest, ties away from zero (as cvt.rna)", lambda x: _drop(x, 0x1000)),
    ("rounds to nearest, ties to even", lambda x: _drop(x, (0xFFF + ((x.view(np.uint32) >> 13) & 1)).astype(np.uint64))),
    ("truncates (rounds toward zero)", _toward_zero),
    ("rounds toward -infinity", lambda x: _directed(x, -1)),
    ("rounds toward +infinity", lambda x: _directed(x, 1)),
    ("keeps every float32 bit (no TF32 rounding)", lambda x: x),
]


def verdict(path, a, got):
    got = np.asarray(got, dtype=np.float32)
    matches = [name for name, model in MODELS if np.array_equal(model(a), got)]
    if matches:
        print(f"tf32_probe.py: {path}: {' / '.join(matches)}")
    else:
        pairs = " ".join(f"{x:.9g}->{y:.9g}" for x, y in zip(a, got))
        print(f"tf32_probe.py: {path}: no rounding model explains the results: {pairs}")


def cuda_torch(path):
    """torch with a usable CUDA device, or None after one "skipped" line."""
    try:
        import torch
    except ImportError:
        print(f"tf32_probe.py: {path}: skipped: torch is not installed")
        return None
    if not torch.cuda.is_available():
        print(f"tf32_probe.py: {path}: skipped: no CUDA device")
        return None
    return torch


def probe_torch(a):
    torch = cuda_torch("torch")
    if torch is None:
        return
    print(f"tf32_probe.py: torch {torch.__version__} on {torch.cuda.get_device_name(0)}")
    n = 256  # a size cuBLAS runs on tensor cores
    A = torch.zeros(n, n, device="cuda")
    A[:16, 0] = torch.from_numpy(a).cuda()
    B = torch.zeros(n, n, device="cuda")
    B[0, 0] = 1.0
    saved = torch.backends.cuda.matmul.allow_tf32
    for allow in (True, False):
        torch.backends.cuda.matmul.allow_tf32 = allow
        verdict(f"torch.matmul float32, allow_tf32={allow}", a, (A @ B)[:16, 0].cpu().numpy())
    torch.backends.cuda.matmul.allow_tf32 = saved


def probe_triton(a):
    torch = cuda_torch("triton")
    if torch is None:
        return
    try:
        import triton
        import triton.language as tl
    except ImportError:
        print("tf32_probe.py: triton: skipped: triton is not installed")
        return

    @triton.jit
    def dot(a_ptr, b_ptr, c_ptr, PRECISION: tl.constexpr):
        i = tl.arange(0, 16)
        x = tl.load(a_ptr + i[:, None] * 16 + i[None, :])
        y = tl.load(b_ptr + i[:, None] * 16 + i[None, :])
        tl.store(c_ptr + i[:, None] * 16 + i[None, :], tl.dot(x, y, input_precision=PRECISION))

    print(f"tf32_probe.py: triton {triton.__version__}")
    A = torch.zeros(16, 16, device="cuda")
    A[:, 0] = torch.from_numpy(a).cuda()
    B = torch.zeros(16, 16, device="cuda")
    B[0, 0] = 1.0
    runs = [("tl.dot float32, default precision", None), ('tl.dot float32, input_precision="tf32"', "tf32"),
            ('tl.dot float32, input_precision="ieee"', "ieee")]
    for path, precision in runs:
        C = torch.zeros(16, 16, device="cuda")
        try:
            dot[(1,)](A, B, C, PRECISION=precision)
            torch.cuda.synchronize()
        except Exception as e:  # an older Triton without input_precision, or a compile error
            print(f"tf32_probe.py: {path}: could not run: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        verdict(path, a, C[:, 0].cpu().numpy())


def main():
    a = test_values()
    probe_torch(a)
    probe_triton(a)


if __name__ == "__main__":
    main()
