"""The CUDA parts through Python (marked gpu: they skip without a usable GPU, and fail instead
under ARTABPFN_EXPECT_GPU=1): the engine bitwise equal to the command line on both bundled
fixtures, in every attention mode and precision, and PyTorch CUDA tensors in and out."""

import numpy as np
import pytest

import artabpfn
from conftest import FIXTURES, FIXTURE_PAIRS, run_cli, run_python
from test_model import assert_bitwise, bits

pytestmark = pytest.mark.gpu


def fixture_inputs(name):
    io = artabpfn.load_inputs(FIXTURES / FIXTURE_PAIRS[name][1])
    return io, {k: io[k] for k in ("context_len", "target_len")}


@pytest.mark.parametrize("fixture", sorted(FIXTURE_PAIRS))
@pytest.mark.parametrize("attention, precision", [("fused", "float32"), ("split", "float32"),
                                                  ("reencode", "float32"), ("fused", "mixed")])
def test_engine_density_bitwise_equal_to_the_cli(cli, fixture, attention, precision, tmp_path):
    from safetensors.numpy import load_file

    weights, inputs = (FIXTURES / f for f in FIXTURE_PAIRS[fixture])
    out = tmp_path / "d.safetensors"
    run_cli(cli, "density", "--backend", "cuda", "--attention", attention, "--precision", precision,
            "--weights", weights, "--inputs", inputs, "--out", out)
    io, lens = fixture_inputs(fixture)
    logp = artabpfn.Model.load(weights).density(io["x_context"], io["y_context"], io["x_target"], io["y_target"],
                                                attention=attention, precision=precision, **lens)
    assert_bitwise(logp, load_file(out)["logpdf"])


@pytest.mark.parametrize("fixture", sorted(FIXTURE_PAIRS))
@pytest.mark.parametrize("attention", ["fused", "split"])
def test_engine_samples_bitwise_equal_to_the_cli(cli, fixture, attention, tmp_path):
    from safetensors.numpy import load_file

    weights, inputs = (FIXTURES / f for f in FIXTURE_PAIRS[fixture])
    out = tmp_path / "s.safetensors"
    run_cli(cli, "sample", "--attention", attention, "--weights", weights, "--inputs", inputs, "--samples", 300,
            "--seed", 7, "--out", out)
    io, lens = fixture_inputs(fixture)
    calls = []
    ys = artabpfn.Model.load(weights).sample(io["x_context"], io["y_context"], io["x_target"], samples=300, seed=7,
                                             attention=attention, progress=lambda d, t: calls.append((d, t)), **lens)
    assert_bitwise(ys, load_file(out)["samples"])
    assert calls and calls[-1][0] == calls[-1][1]


def test_torch_cuda_tensors_in_and_out():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.fail("PyTorch sees no CUDA device where artabpfn does")
    io, lens = fixture_inputs("paper")
    m = artabpfn.Model.load(FIXTURES / "paper_weights.safetensors")
    t = {k: torch.from_numpy(v).float().cuda() for k, v in io.items() if k not in lens}
    logp = m.density(t["x_context"], t["y_context"], t["x_target"], t["y_target"])
    ys = m.sample(t["x_context"], t["y_context"], t["x_target"], samples=8, seed=3)
    assert isinstance(logp, torch.Tensor) and logp.is_cuda and isinstance(ys, torch.Tensor) and ys.is_cuda
    # The same bits as from NumPy inputs (float32 fixtures: the tensors hold the same values).
    np.testing.assert_array_equal(bits(logp.cpu().numpy()),
                                  bits(m.density(io["x_context"], io["y_context"], io["x_target"], io["y_target"])))
    np.testing.assert_array_equal(bits(ys.cpu().numpy()),
                                  bits(m.sample(io["x_context"], io["y_context"], io["x_target"], samples=8, seed=3)))
    # A state_dict of CUDA tensors gives the same model.
    from safetensors.numpy import load_file

    state = {k: torch.from_numpy(v).cuda() for k, v in load_file(FIXTURES / "paper_weights.safetensors").items()}
    m2 = artabpfn.Model.from_state_dict(state, n_heads=m.config["n_heads"])
    np.testing.assert_array_equal(bits(m2.density(io["x_context"], io["y_context"], io["x_target"],
                                                  io["y_target"])), bits(logp.cpu().numpy()))


def test_engine_where_pytorch_loaded_its_cuda_runtime_first(tmp_path):
    """A fresh interpreter that uses PyTorch's CUDA before importing artabpfn (PyTorch loads its
    CUDA runtime globally): the engine must still reach its own runtime, and give the same bits."""
    pytest.importorskip("torch")
    io, lens = fixture_inputs("paper")
    out = tmp_path / "logp.npy"
    script = f"""
import torch
torch.zeros(1, device="cuda")
import numpy as np, artabpfn
io = artabpfn.load_inputs({str(FIXTURES / FIXTURE_PAIRS["paper"][1])!r})
m = artabpfn.Model.load({str(FIXTURES / FIXTURE_PAIRS["paper"][0])!r})
np.save({str(out)!r}, m.density(io["x_context"], io["y_context"], io["x_target"], io["y_target"],
                                context_len=io["context_len"], target_len=io["target_len"]))
"""
    run_python("-c", script, expect=0)
    here = artabpfn.Model.load(FIXTURES / FIXTURE_PAIRS["paper"][0]).density(
        io["x_context"], io["y_context"], io["x_target"], io["y_target"], **lens)
    assert_bitwise(np.load(out), here)
