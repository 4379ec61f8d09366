"""artabpfn.reference: the double reference on NumPy arrays. The attention contracts reproduce
the conformance vectors' expected outputs bit for bit (the generator runs the same reference);
the model jobs agree with Model's reference backend."""

import numpy as np
import pytest
from safetensors.numpy import load_file

import artabpfn
from artabpfn import reference
from artabpfn_conformance import load_case, load_index
from conftest import FIXTURES


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)


def test_contracts_reproduce_the_vectors(vectors):
    index = load_index(vectors)
    checked, models = set(), {}
    for case in index["cases"]:
        if case["contract"] not in reference.ATTENTION_CONTRACTS + reference.MODEL_CONTRACTS:
            continue
        inputs, expected, _ = load_case(vectors, case)
        model = None
        if case.get("model"):
            spec = next(m for m in index["models"] if m["name"] == case["model"])
            model = models.setdefault(spec["name"], artabpfn.Model.load(vectors / spec["file"]))
        got = reference.contract(case["contract"], inputs, model)
        for name, value in expected.items():
            np.testing.assert_array_equal(bits(got[name]), bits(value), err_msg=f"{case['name']}: {name}")
        checked.add(case["contract"])
    assert checked == set(reference.ATTENTION_CONTRACTS + reference.MODEL_CONTRACTS)


def test_named_functions_match_the_contract_form():
    rng = np.random.default_rng(1)
    q = rng.standard_normal((3, 2, 1, 5)).astype(np.float32)
    ck, cv = rng.standard_normal((2, 2, 4, 5)), rng.standard_normal((2, 2, 4, 5))
    bk, bv = rng.standard_normal((3, 2, 6, 5)), rng.standard_normal((3, 2, 6, 5))
    out, lse = reference.shared_context_attention(q, ck, cv, [4, 0], [0, 1, 0])
    assert out.shape == (3, 2, 1, 5) and lse.shape == (3, 2, 1)
    assert np.all(out[1] == 0) and np.all(lse[1] == -np.inf)  # Nc 0: (0, -inf)
    # The fused attention is the merge of its two parts.
    o1, l1 = reference.shared_context_attention(q, ck, cv, [4, 3], [0, 1, 0])
    o2, l2 = reference.buffer_attention(q, bk, bv, 5)
    of, lf = reference.fused_attention(q, ck, cv, [4, 3], [0, 1, 0], bk, bv, 5)
    om, lm = reference.merge_states(o1.reshape(-1, 5), l1.reshape(-1), o2.reshape(-1, 5), l2.reshape(-1))
    np.testing.assert_allclose(of.reshape(-1, 5), om, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(lf.reshape(-1), lm, rtol=1e-13)


def test_teacher_forcing_needs_two_rows_per_buffer_row():
    q = np.zeros((1, 1, 3, 4))
    with pytest.raises(ValueError, match="needs Lq = 2 buffer_len"):
        reference.buffer_attention(q, np.zeros((1, 1, 2, 4)), np.zeros((1, 1, 2, 4)), 2, teacher_forcing=True)
    with pytest.raises(ValueError, match="task_of_sample out of range"):
        reference.shared_context_attention(np.zeros((1, 1, 1, 4)), np.zeros((1, 1, 2, 4)), np.zeros((1, 1, 2, 4)),
                                           [2], [3])


@pytest.fixture(scope="module")
def paper():
    return artabpfn.Model.load(FIXTURES / "paper_weights.safetensors"), load_file(FIXTURES / "paper_io.safetensors")


def test_model_jobs_agree_with_the_reference_backend(paper):
    m, io = paper
    task = (io["x_context"][2], io["y_context"][2], io["x_target"][2])
    y = io["y_target"][2][None, :]
    via_model = m.density(*task, y, backend="reference")
    np.testing.assert_array_equal(bits(reference.teacher_forcing_density(m, *task, y)), bits(via_model))
    np.testing.assert_allclose(reference.forced_ar_density(m, *task, y), via_model, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(bits(reference.sample_sequence(m, *task, samples=2, seed=5)),
                                  bits(m.sample(*task, samples=2, seed=5, backend="reference")))


def test_prefill_mixture_and_sampler(paper):
    m, io = paper
    c = m.config
    keys, values = reference.prefill_kv(m, io["x_context"][0], io["y_context"][0])
    assert keys.shape == values.shape == (c["n_layers"], io["x_context"].shape[1], c["d_model"])
    z = np.random.default_rng(0).standard_normal((5, c["d_model"]))
    mean, std, log_weight = reference.mixture_parameters(m, z)
    assert mean.shape == (5, c["num_components"]) and (std > 0).all()
    np.testing.assert_allclose(np.exp(log_weight).sum(axis=1), 1.0, rtol=1e-12)
    u, n = np.full(5, 1e-12), np.zeros(5)  # the first component, its mean
    np.testing.assert_array_equal(reference.sampler(m, z, u, n), mean[:, 0])
    with pytest.raises(ValueError, match=r"not in \(0, 1\)"):
        reference.sampler(m, z, np.ones(5), n)
