"""The double reference (the project's oracle) on NumPy arrays, for people who test their own
implementation of AR-TabPFN or of its attention.

Attention contracts, in the conformance vectors' layout (docs/conformance_vectors.md):
q [B, H, Lq, Dh]; context_k, context_v [T, H, Nc_max, Dh] with context_len [T] and
task_of_sample [B]; buffer_k, buffer_v [B, H, C, Dh] with buffer_len; outputs out [B, H, Lq, Dh]
and the natural-log lse [B, H, Lq]. A query that sees no key gives (0, -inf).

Model jobs, one task per call (x_context [Nc, F], y_context [Nc], x_target [Nt, F]) on an
``artabpfn.Model``."""

import numpy as np

from . import _core
from ._arrays import host_array

# The integer inputs of the contracts (the others are float).
INTEGER_INPUTS = ("context_len", "target_len", "task_of_sample", "buffer_len", "teacher_forcing")
ATTENTION_CONTRACTS = tuple(_core.reference_attention_contracts())
# The model jobs `contract` computes, in the vectors' layout (x_context [T, Nc_max, F], y_context
# [T, Nc_max], context_len [T], x_target [T, Nt_max, F], target_len [T], y_target [T, R, Nt_max];
# mixture_parameters: z [n, D]).
MODEL_CONTRACTS = tuple(_core.reference_model_contracts())


def split_inputs(inputs):
    """(float inputs as float64, integer inputs as int64) of a contract's inputs dict."""
    values, integers = {}, {}
    for name, value in inputs.items():
        if name in INTEGER_INPUTS:
            integers[name] = np.atleast_1d(host_array(value, name, np.int64))
        else:
            values[name] = host_array(value, name, np.float64)
    return values, integers


def contract(name, inputs, model=None):
    """The double reference's outputs of a contract on an inputs dict laid out as the vectors lay
    it out: {"out", "lse"} for the attention contracts and the merge; for the model jobs (with the
    model) {"keys", "values"}, {"logpdf"} (NaN past a task's target_len) or {"mean", "std",
    "log_weight"}."""
    if name not in ATTENTION_CONTRACTS + MODEL_CONTRACTS:
        raise ValueError(f"'{name}' is not one of {', '.join(ATTENTION_CONTRACTS + MODEL_CONTRACTS)}")
    return dict(_core.reference_contract(name, *split_inputs(inputs), model._model if model else None))


def _pair(outputs):
    return outputs["out"], outputs["lse"]


def shared_context_attention(q, context_k, context_v, context_len, task_of_sample):
    """Each sample's queries attend to its task's first context_len[t] context rows. (out, lse)."""
    return _pair(contract("shared_context_attention", dict(q=q, context_k=context_k, context_v=context_v,
                                                            context_len=context_len, task_of_sample=task_of_sample)))


def buffer_attention(q, buffer_k, buffer_v, buffer_len, teacher_forcing=False):
    """Attention to each sample's own buffer rows. Decode (teacher_forcing False): every query
    sees buffer rows 0..buffer_len-1. Teacher forcing: Lq = 2 x buffer_len queries, buffer rows
    then target rows; buffer row i sees rows 0..i, target row i rows 0..i-1. (out, lse)."""
    name = "buffer_attention_teacher_forcing" if teacher_forcing else "buffer_attention_decode"
    return _pair(contract(name, dict(q=q, buffer_k=buffer_k, buffer_v=buffer_v, buffer_len=buffer_len)))


def fused_attention(q, context_k, context_v, context_len, task_of_sample, buffer_k, buffer_v, buffer_len,
                    teacher_forcing=False):
    """One softmax over the task's context rows and the sample's buffer rows (the buffer under the
    mask of buffer_attention). (out, lse)."""
    return _pair(contract("fused_attention", dict(
        q=q, context_k=context_k, context_v=context_v, context_len=context_len, task_of_sample=task_of_sample,
        buffer_k=buffer_k, buffer_v=buffer_v, buffer_len=buffer_len, teacher_forcing=int(bool(teacher_forcing)))))


def merge_states(out1, lse1, out2, lse2):
    """Two partial attention states over disjoint key sets, out [N, Dh] and lse [N], merged;
    two empty parts (lse -inf) give (0, -inf). (out, lse)."""
    return _pair(contract("merge_states", dict(out1=out1, lse1=lse1, out2=out2, lse2=lse2)))


def _f64(x, name):
    return host_array(x, name, np.float64)


def prefill_kv(model, x_context, y_context):
    """Each layer's keys and values of the context rows: (keys, values), each [L, Nc, D]."""
    return _core.reference_prefill_kv(model._model, _f64(x_context, "x_context"), _f64(y_context, "y_context"))


def teacher_forcing_density(model, x_context, y_context, x_target, y):
    """log p(y_t | context, y_<t) by teacher forcing (one pass) for value sets y [R, Nt]: [R, Nt]."""
    return _core.reference_density(model._model, _f64(x_context, "x_context"), _f64(y_context, "y_context"),
                                   _f64(x_target, "x_target"), np.atleast_2d(_f64(y, "y")), True)


def forced_ar_density(model, x_context, y_context, x_target, y):
    """The same densities along the AR decode path with the values forced: [R, Nt]."""
    return _core.reference_density(model._model, _f64(x_context, "x_context"), _f64(y_context, "y_context"),
                                   _f64(x_target, "x_target"), np.atleast_2d(_f64(y, "y")), False)


def mixture_parameters(model, z):
    """The mixture head at rows z [n, D]: (mean, std, log_weight), each [n, K]."""
    return _core.reference_mixture_parameters(model._model, _f64(z, "z"))


def sampler(model, z, uniform, normal):
    """One value per row of z [n, D] from given draws: the component is the smallest k whose
    cumulative weight exceeds uniform[i] (in (0, 1)), the value mean_k + std_k normal[i]: [n]."""
    return _core.reference_sampler(model._model, _f64(z, "z"), _f64(uniform, "uniform"), _f64(normal, "normal"))


def sample_sequence(model, x_context, y_context, x_target, samples, seed, task_id=0):
    """Joint samples [S, Nt] with the Philox stream (counter task id `task_id`): the draws of
    ``Model.sample`` for the task at position task_id."""
    return _core.reference_sample_sequence(model._model, _f64(x_context, "x_context"), _f64(y_context, "y_context"),
                                           _f64(x_target, "x_target"), int(samples), int(seed), int(task_id))
