#!/usr/bin/env python3
"""Merges e2e_bench's JSON and the PyTorch baseline's JSON lines into one result file, adding the
derived figures: engine/torch ratio per batch size, speed-up of the buffered engine over the
reencode baseline per point, and the headline numbers. Standard library only (runs on the GPU
machine right after the benchmarks).

usage: merge_results.py ENGINE.json --torch TORCH.jsonl --torch-meta META.json --out OUT.json
"""
import argparse
import json
import sys

# The PyTorch baseline's fixed shape (bench/torch_baseline/torch_decode_step.py): Nc 256, buffer
# capacity 64, step t = 10. Engine steps are compared only where they have the same shape.
TORCH_SHAPE = {"nc": 256, "nt": 64, "t": 10}


def ok(record):
    return record.get("status") == "ok"


def torch_ratios(engine, torch_lines):
    out = []
    steps = [s for s in engine.get("steps", []) if ok(s) and all(s[k] == v for k, v in TORCH_SHAPE.items())]
    for line in torch_lines:
        if line.get("kind") != "torch_decode_step":
            continue
        b = line["B"]
        row = {"b": b, "torch_eager_us": None, "torch_graph_us": None}
        if "error" in line:
            row["torch_error"] = line["error"]
        else:
            row["torch_eager_us"] = 1000.0 * line["eager_ms"]
            row["torch_graph_us"] = 1000.0 * line["graph_ms"]
        for mode in ("fused", "split"):
            match = [s for s in steps if s["b"] == b and s["mode"] == mode]
            if match:
                row[f"engine_{mode}_graph_us"] = match[0]["graph_us"]
                if row["torch_graph_us"]:
                    # engine / torch: below 1 the engine is faster
                    row[f"ratio_{mode}"] = match[0]["graph_us"] / row["torch_graph_us"]
        out.append(row)
    return out


def reencode_speedups(engine):
    points = [p for p in engine.get("points", []) if ok(p)]
    out = []
    for r in points:
        if r["mode"] != "reencode":
            continue
        row = {k: r[k] for k in ("job", "b", "nc", "nt", "sweeps")}
        row["reencode_ms"] = r["median_ms"]
        for mode in ("fused", "split"):
            match = [p for p in points if p["mode"] == mode and all(p[k] == r[k] for k in ("job", "b", "nc", "nt"))]
            if match:
                row[f"{mode}_ms"] = match[0]["median_ms"]
                row[f"speedup_{mode}"] = r["median_ms"] / match[0]["median_ms"]
        out.append(row)
    return out


def headline(engine, speedups, ratios):
    c = engine.get("settings", {}).get("center", {"b": 256, "nc": 256, "nt": 64})
    pts = [p for p in engine.get("points", []) if ok(p)]

    def find(job, mode):
        for p in pts:
            if p["job"] == job and p["mode"] == mode and p["b"] == c["b"] and p["nc"] == c["nc"] and p["nt"] == c["nt"]:
                return p
        return None

    h = {"center": c}
    for mode in ("fused", "split"):
        s, d = find("sample", mode), find("density", mode)
        if s:
            h[f"sample_{mode}_ms"] = s["median_ms"]
            h[f"sample_{mode}_per_step_ms"] = s["per_step_ms"]
            h[f"sample_{mode}_floor_fraction"] = s["floor"]["floor_fraction"]
        if d:
            h[f"density_{mode}_ms"] = d["median_ms"]
            h[f"density_{mode}_floor_fraction"] = d["floor"]["floor_fraction"]
    for st in engine.get("steps", []):
        if ok(st) and st["b"] == c["b"] and st["nc"] == c["nc"]:
            h[f"step_{st['mode']}_graph_us_t{st['t']}"] = st["graph_us"]
            h[f"step_{st['mode']}_floor_fraction_t{st['t']}"] = st["floor"]["floor_fraction"]
    for s in speedups:
        if s["b"] == c["b"] and s["nc"] == c["nc"] and s["nt"] == c["nt"]:
            for mode in ("fused", "split"):
                if f"speedup_{mode}" in s:
                    h[f"{s['job']}_speedup_over_reencode_{mode}"] = s[f"speedup_{mode}"]
    for r in ratios:
        if r["b"] == c["b"] and "ratio_fused" in r:
            h["engine_over_torch_fused_at_center_b"] = r["ratio_fused"]
    for job in ("sample", "density"):
        ran = [p for p in pts if p["job"] == job and p["mode"] != "reencode"]
        if ran:
            h[f"{job}_largest_b"] = max(p["b"] for p in ran)
            h[f"{job}_largest_nc"] = max(p["nc"] for p in ran)
            h[f"{job}_largest_nt"] = max(p["nt"] for p in ran)
    return h


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("engine")
    ap.add_argument("--torch", help="the baseline's JSON lines (absent: not run)")
    ap.add_argument("--torch-meta", help="JSON object describing how the baseline ran")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    with open(args.engine) as f:
        engine = json.load(f)
    torch_lines, meta = [], {}
    if args.torch_meta:
        try:
            with open(args.torch_meta) as f:
                meta = json.load(f)
        except (OSError, ValueError) as e:
            meta = {"status": f"no metadata: {e}"}
    if args.torch:
        try:
            with open(args.torch) as f:
                for line in f:
                    line = line.strip()
                    if line.startswith("{"):
                        try:
                            torch_lines.append(json.loads(line))
                        except ValueError:
                            pass
        except OSError:
            pass
    # The derived figures are float32's (records without a precision are float32).
    float32 = dict(engine, **{key: [r for r in engine.get(key, []) if r.get("precision", "float32") == "float32"]
                              for key in ("steps", "points")})
    ratios = torch_ratios(float32, torch_lines)
    speedups = reencode_speedups(float32)
    engine["torch"] = dict(meta, shape=TORCH_SHAPE, results=torch_lines)
    engine["torch_ratio"] = ratios
    engine["speedup_over_reencode"] = speedups
    engine["headline"] = headline(float32, speedups, ratios)
    with open(args.out, "w") as f:
        json.dump(engine, f, indent=1)
        f.write("\n")

    print("\nengine / torch (decode step, CUDA graph replay, Nc 256, t 10; below 1: engine faster)")
    print(f"{'B':>6} {'torch us':>10} {'fused us':>10} {'ratio':>7} {'split us':>10} {'ratio':>7}")
    for r in ratios:
        def fmt(v, spec):
            return format(v, spec) if isinstance(v, (int, float)) else format("-", ">" + spec.split(".")[0])
        print(f"{r['b']:>6} {fmt(r.get('torch_graph_us'), '10.1f')} {fmt(r.get('engine_fused_graph_us'), '10.1f')} "
              f"{fmt(r.get('ratio_fused'), '7.3f')} {fmt(r.get('engine_split_graph_us'), '10.1f')} "
              f"{fmt(r.get('ratio_split'), '7.3f')}" + (f"  torch error: {r['torch_error']}" if "torch_error" in r else ""))
    print("\nspeed-up over reencode (whole calls)")
    for s in speedups:
        print(f"  {s['job']:<8} B {s['b']:>6} Nc {s['nc']:>6} Nt {s['nt']:>5}: reencode {s['reencode_ms']:.1f} ms, "
              f"fused x{s.get('speedup_fused', float('nan')):.1f}, split x{s.get('speedup_split', float('nan')):.1f}")
    print("\nheadline:", json.dumps(engine["headline"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
