"""artabpfn.Model: the README example, results bitwise equal to the command line's on both
bundled fixtures, state_dicts, bad input with the command line's message, progress, the GIL."""

import re
import threading
import time
import warnings

import numpy as np
import pytest
from safetensors.numpy import load_file

import artabpfn
from conftest import FIXTURES, FIXTURE_PAIRS, ROOT, run_cli


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def assert_bitwise(python, cli_tensor):
    """The CLI's [T, R, Nt] result (Nt the largest target count) against Python's (padded to the
    inputs' Nt): equal bits where the CLI has columns, NaN past them."""
    nt = cli_tensor.shape[-1]
    np.testing.assert_array_equal(bits(python[..., :nt]), bits(cli_tensor))
    assert np.isnan(python[..., nt:]).all()


@pytest.fixture(scope="module")
def models():
    return {name: artabpfn.Model.load(FIXTURES / w) for name, (w, _) in FIXTURE_PAIRS.items()}


def test_readme_example_runs_as_written(monkeypatch):
    monkeypatch.chdir(ROOT)
    text = (ROOT / "docs" / "python.md").read_text()
    example = re.search(r"<!-- readme-example -->\n```python\n(.*?)```", text, re.S).group(1)
    scope = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-GPU notice
        exec(compile(example, "README example", "exec"), scope)
    io = scope["io"]
    T, Nt = io["y_target"].shape
    assert scope["logp"].shape == (T, Nt)
    assert scope["ys"].shape == (T, 100, Nt)
    assert np.isfinite(scope["logp"]).all()


@pytest.mark.parametrize("fixture", sorted(FIXTURE_PAIRS))
def test_density_bitwise_equal_to_the_cli(cli, models, fixture, tmp_path):
    weights, inputs = (FIXTURES / f for f in FIXTURE_PAIRS[fixture])
    out = tmp_path / "d.safetensors"
    run_cli(cli, "density", "--backend", "reference", "--weights", weights, "--inputs", inputs, "--out", out)
    io = load_file(inputs)
    lens = {k: io[k] for k in ("context_len", "target_len") if k in io}
    logp = models[fixture].density(io["x_context"], io["y_context"], io["x_target"], io["y_target"],
                                   backend="reference", **lens)
    cli_logp = load_file(out)["logpdf"]
    assert_bitwise(logp.reshape(cli_logp.shape[:2] + logp.shape[-1:]), cli_logp)


@pytest.mark.parametrize("fixture", sorted(FIXTURE_PAIRS))
def test_samples_bitwise_equal_to_the_cli(cli, models, fixture, tmp_path):
    weights, inputs = (FIXTURES / f for f in FIXTURE_PAIRS[fixture])
    out = tmp_path / "s.safetensors"
    run_cli(cli, "sample", "--backend", "reference", "--weights", weights, "--inputs", inputs, "--samples", 3,
            "--seed", 18446744073709551615, "--out", out)
    io = load_file(inputs)
    lens = {k: io[k] for k in ("context_len", "target_len") if k in io}
    ys = models[fixture].sample(io["x_context"], io["y_context"], io["x_target"], samples=3,
                                seed=18446744073709551615, backend="reference", **lens)
    assert_bitwise(ys, load_file(out)["samples"])


def test_state_dict_gives_the_same_model_and_results(models):
    io = load_file(FIXTURES / "paper_io.safetensors")
    state = load_file(FIXTURES / "paper_weights.safetensors")
    m = artabpfn.Model.from_state_dict(state, n_heads=models["paper"].config["n_heads"])
    assert m.config == models["paper"].config
    args = (io["x_context"][:1], io["y_context"][:1], io["x_target"][:1], io["y_target"][:1])
    np.testing.assert_array_equal(bits(m.density(*args, backend="reference")),
                                  bits(models["paper"].density(*args, backend="reference")))


def test_state_dict_of_float16_is_upcast_with_a_warning(models):
    state = {k: v.astype(np.float16) for k, v in load_file(FIXTURES / "paper_weights.safetensors").items()}
    with pytest.warns(UserWarning, match="F16"):
        artabpfn.Model.from_state_dict(state, n_heads=4)


def test_bad_state_dict_raises_the_loader_message():
    state = load_file(FIXTURES / "paper_weights.safetensors")
    del state["head.mean_bias"]
    with pytest.raises(ValueError, match="head.mean_bias"):
        artabpfn.Model.from_state_dict(state, n_heads=4)


def cli_message(cli, *args):
    """The command line's error message (without its "artabpfn: error: " prefix)."""
    _, err = run_cli(cli, *args, expect=2)
    return err.strip().splitlines()[0].removeprefix("artabpfn: error: ")


def test_bad_input_raises_value_error_with_the_cli_message(cli, models, tmp_path):
    from safetensors.numpy import save_file

    io = load_file(FIXTURES / "paper_io.safetensors")
    io["context_len"] = np.array([37, 37, 99, 37], np.int64)  # past the padding
    bad = tmp_path / "bad.safetensors"
    save_file(io, str(bad))
    message = cli_message(cli, "density", "--backend", "reference", "--weights", FIXTURES / "paper_weights.safetensors",
                          "--inputs", bad)
    with pytest.raises(ValueError) as raised:
        models["paper"].density(io["x_context"], io["y_context"], io["x_target"], io["y_target"],
                                context_len=io["context_len"], backend="reference")
    # The same message; only the name of the source differs (the file, or Model.density).
    assert str(raised.value).replace("Model.density", str(bad)) == message


@pytest.mark.parametrize("options, cli_options", [
    ({"backend": "gpu"}, ["--backend", "gpu"]),
    ({"backend": "reference", "attention": "split"}, ["--backend", "reference", "--attention", "split"]),
    ({"precision": "mixed"}, ["--precision", "mixed"]),
])
def test_unsupported_combinations_raise_the_support_table_message(cli, models, options, cli_options):
    io = load_file(FIXTURES / "paper_io.safetensors")
    with pytest.raises(ValueError) as raised:
        models["paper"].sample(io["x_context"], io["y_context"], io["x_target"], samples=1, seed=1, **options)
    if options.get("backend") == "gpu":  # CLI11 refuses it first, by its own message
        assert "is not supported" in str(raised.value)
        return
    message = cli_message(cli, "sample", *cli_options, "--weights", FIXTURES / "paper_weights.safetensors",
                          "--inputs", FIXTURES / "paper_io.safetensors", "--samples", 1, "--seed", 1)
    assert str(raised.value).splitlines()[0] == message


@pytest.mark.parametrize("samples, seed, expected", [
    (0, 1, "samples: '0' is not an integer in [1, 4294967295]"),
    (1, -1, "seed: '-1' is not a seed"),
    (1, 2**64, "seed: '18446744073709551616' is not a seed"),
])
def test_bad_counts_and_seeds(models, samples, seed, expected):
    io = load_file(FIXTURES / "paper_io.safetensors")
    with pytest.raises(ValueError, match=re.escape(expected)):
        models["paper"].sample(io["x_context"], io["y_context"], io["x_target"], samples=samples, seed=seed)


def test_shapes_nan_and_strings_are_refused(models):
    io = load_file(FIXTURES / "paper_io.safetensors")
    m = models["paper"]
    with pytest.raises(ValueError, match="x_target.*expected"):
        m.density(io["x_context"], io["y_context"], io["x_target"][0, 0], io["y_target"], backend="reference")
    y = io["y_target"].copy()
    y[1, 2] = np.nan
    with pytest.raises(ValueError, match="y_target"):
        m.density(io["x_context"], io["y_context"], io["x_target"], y, backend="reference")
    with pytest.raises(ValueError, match="'y_context' is not a numeric array"):
        m.density(io["x_context"], "abc", io["x_target"], io["y_target"], backend="reference")


def test_one_task_and_value_sets_keep_their_layout(models):
    io = load_file(FIXTURES / "paper_io.safetensors")
    m = models["paper"]
    one = m.density(io["x_context"][1], io["y_context"][1], io["x_target"][1], io["y_target"][1], backend="reference")
    batch = m.density(io["x_context"], io["y_context"], io["x_target"], io["y_target"], backend="reference")
    np.testing.assert_array_equal(bits(one), bits(batch[1]))
    sets = m.density(io["x_context"][1], io["y_context"][1], io["x_target"][1],
                     np.stack([io["y_target"][1], io["y_target"][1] + 0.5]), backend="reference")
    assert sets.shape == (2,) + one.shape
    np.testing.assert_array_equal(bits(sets[0]), bits(one))


def test_progress_reports_every_task(models):
    io = load_file(FIXTURES / "paper_io.safetensors")
    calls = []
    models["paper"].density(io["x_context"], io["y_context"], io["x_target"], io["y_target"], backend="reference",
                            progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_an_exception_in_the_progress_callback_stops_the_job(models):
    io = load_file(FIXTURES / "paper_io.safetensors")

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        models["paper"].density(io["x_context"], io["y_context"], io["x_target"], io["y_target"],
                                backend="reference", progress=stop)


def test_the_gil_is_released_while_the_job_runs(models):
    io = load_file(FIXTURES / "paper_io.safetensors")
    ticks = []
    finished = threading.Event()

    def tick():
        while not finished.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    start = time.perf_counter()
    models["paper"].sample(io["x_context"], io["y_context"], io["x_target"], samples=2, seed=1, backend="reference")
    end = time.perf_counter()
    finished.set()
    thread.join()
    during = [t for t in ticks if start < t < end]
    assert end - start > 0.2 and len(during) > 20, f"{len(during)} ticks in {end - start:.2f} s"


def test_the_cuda_fallback_warns_once():
    m = artabpfn.Model.load(FIXTURES / "paper_weights.safetensors")
    io = load_file(FIXTURES / "paper_io.safetensors")
    if artabpfn.cuda_available():
        pytest.skip("a GPU is usable: no fallback")
    with pytest.warns(UserWarning, match="no usable CUDA GPU") as record:
        m.density(io["x_context"][:1], io["y_context"][:1], io["x_target"][:1], io["y_target"][:1])
    assert len(record) == 1
    assert m.last_run["backend"] == "reference"


def test_build_queries():
    assert isinstance(artabpfn.built_with_cuda(), bool)
    assert artabpfn.cuda_available() == (artabpfn.cuda_unavailable_reason() == "")
    if not artabpfn.built_with_cuda():
        assert not artabpfn.cuda_available()


def test_torch_tensors_come_back_as_torch_tensors(models):
    torch = pytest.importorskip("torch")
    io = load_file(FIXTURES / "paper_io.safetensors")
    t = {k: torch.from_numpy(v) for k, v in io.items()}
    logp = models["paper"].density(t["x_context"], t["y_context"], t["x_target"], t["y_target"], backend="reference")
    assert isinstance(logp, torch.Tensor) and logp.device.type == "cpu"
    np.testing.assert_array_equal(
        bits(logp.numpy()),
        bits(models["paper"].density(io["x_context"], io["y_context"], io["x_target"], io["y_target"],
                                     backend="reference")))
