"""Reading conformance vectors with numpy and safetensors only."""

import json
import os

from safetensors import safe_open
from safetensors.numpy import load_file

EXPECTED = "expected."
MULTIPRECISION = "multiprecision."

# Input tensors per contract (the index repeats this under "contracts").
CONTRACT_INPUTS = {
    "shared_context_attention": ["q", "context_k", "context_v", "context_len", "task_of_sample"],
    "buffer_attention_decode": ["q", "buffer_k", "buffer_v", "buffer_len"],
    "buffer_attention_teacher_forcing": ["q", "buffer_k", "buffer_v", "buffer_len"],
    "merge_states": ["out1", "lse1", "out2", "lse2"],
    "fused_attention": ["q", "context_k", "context_v", "context_len", "task_of_sample",
                        "buffer_k", "buffer_v", "buffer_len", "teacher_forcing"],
}


def load_index(vectors_dir):
    """index.json as a dict; checks the schema."""
    with open(os.path.join(vectors_dir, "index.json"), encoding="utf-8") as f:
        index = json.load(f)
    if index.get("schema") != "artabpfn-conformance-index" or index.get("schema_version") not in (1, 2):
        raise ValueError(f"{vectors_dir}/index.json: not a version 1 or 2 artabpfn conformance index")
    return index


def load_case(vectors_dir, case):
    """(inputs, expected, multiprecision) dicts of numpy arrays for one index entry."""
    tensors = load_file(os.path.join(vectors_dir, case["file"]))
    inputs, expected, mp = {}, {}, {}
    for name, value in tensors.items():
        if name.startswith(EXPECTED):
            expected[name[len(EXPECTED):]] = value
        elif name.startswith(MULTIPRECISION):
            mp[name[len(MULTIPRECISION):]] = value
        else:
            inputs[name] = value
    return inputs, expected, mp


def load_weights(vectors_dir, index, model_name):
    """(state_dict of numpy float32 arrays, metadata) of a model named by a case, or (None, None)."""
    if not model_name:
        return None, None
    spec = next(m for m in index["models"] if m["name"] == model_name)
    path = os.path.join(vectors_dir, spec["file"])
    with safe_open(path, framework="numpy") as f:
        metadata = f.metadata() or {}
    return load_file(path), {**metadata, **{k: str(v) for k, v in spec["config"].items()}}
