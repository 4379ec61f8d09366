#!/usr/bin/env python3
"""Charts (PNG, matplotlib) and tables (markdown) from bench/run_e2e.sh's e2e.json, so that no
number is typed by hand. The markdown needs only the standard library; the charts need matplotlib
(bench/e2e/render.sh installs it from bench/e2e/requirements.txt).

usage: render.py E2E.json [--png OUT.png] [--markdown OUT.md]
       render.py --page PAGE.md --intro INTRO.md [--charts] RUN.json...
The second form writes the performance page: INTRO.md, then the tables of the newest run per GPU
model among the RUN.json files, each with its chart (RUN.png beside RUN.json; --charts draws it).
"""
import argparse
import json
import os
import sys

MODES = ("fused", "split", "reencode")
JOBS = ("sample", "density")
GIB = 1024.0 ** 3


def ok(r):
    return r.get("status") == "ok"


def precision(r):
    """A record's precision; runs before the precision column are float32."""
    return r.get("precision", "float32")


def float32_view(data):
    """The run with its float32 steps and points only: every table and chart but the precisions'."""
    view = dict(data)
    for key in ("steps", "points"):
        view[key] = [r for r in data.get(key, []) if precision(r) == "float32"]
    return view


def precision_markdown(data):
    """Each step and point timed in more than one precision: its median per precision (ms for
    calls, us for steps). Empty where the run timed float32 only."""
    names = []
    for r in data.get("steps", []) + data.get("points", []):
        if precision(r) not in names:
            names.append(precision(r))
    if len(names) < 2:
        return []
    out = ["**Precisions** (medians; calls in ms, steps in us as graph replays; `docs/precisions.md`):", "",
           "| what | B | Nc | Nt | mode | " + " | ".join(names) + " |", "|---|---|---|---|---|" + "---|" * len(names)]
    rows = {}
    for kind, key, records in (("step", "graph_us", data.get("steps", [])), ("call", "median_ms", data.get("points", []))):
        for r in records:
            what = f"step t {r['t']}" if kind == "step" else r["job"]
            row = rows.setdefault((what, r["b"], r["nc"], r["nt"], r["mode"]), {})
            row[precision(r)] = f"{r[key]:.1f}" if ok(r) else r.get("status", "?")
    for (what, b, nc, nt, mode), cells in rows.items():
        if len(cells) > 1:
            out.append(f"| {what} | {b} | {nc} | {nt} | {mode} | " + " | ".join(cells.get(n, "-") for n in names) + " |")
    return out + [""]


# The stamp: "commit" and "device" since schema_version 2; "git_commit" and "gpu" in version 1 files.
def commit(data):
    return str(data.get("commit", data.get("git_commit", "?")))


def device(data):
    return data.get("device", data.get("gpu", {}))


def index_points(data):
    return {(p["job"], p["mode"], p["b"], p["nc"], p["nt"]): p for p in data.get("points", [])}


def cell_ms(p):
    """A call's median in ms, or why it has none."""
    if p is None:
        return "-"
    if ok(p):
        v = p["median_ms"]
        return f"{v:.0f}" if v >= 100 else (f"{v:.1f}" if v >= 10 else f"{v:.2f}")
    reason = p.get("reason", p.get("status", "?"))
    if reason.startswith("needs"):
        return "skipped: " + reason.split(",")[0]
    if "cap" in reason:
        return "over cap"
    if "budget" in reason:
        return "no time"
    return p.get("status", "?")


def pct(x):
    return "-" if x is None else (f"{100 * x:.1f}%" if x >= 0.01 else f"{100 * x:.2f}%")


def sweep_shapes(data):
    """(sweep, b, nc, nt) in the order of the sweeps, each shape once per sweep."""
    seen, rows = set(), []
    for p in data.get("points", []):
        for sweep in p.get("sweeps", []):
            key = (sweep, p["b"], p["nc"], p["nt"])
            if key not in seen:
                seen.add(key)
                rows.append(key)
    order = {"B": 0, "Nt": 1, "Nc": 2}
    rows.sort(key=lambda r: (order.get(r[0], 9), r[1] * r[2] * r[3]))
    return rows


def markdown(run):
    data = float32_view(run)
    gpu = device(data)
    ceil = data.get("ceilings", {})
    out = []
    out.append(
        f"Measured {data.get('date', '?')} on one {gpu.get('name', '?')} (driver CUDA {gpu.get('driver_cuda_version', '?')}, "
        f"runtime {gpu.get('runtime_version', '?')}), e2e_bench built from commit `{commit(data)}`, "
        f"`bench/run_e2e.sh` mode `{data.get('mode', '?')}`{'' if data.get('complete') else ' (incomplete run)'}. "
        f"Ceilings measured in the same run: FP32 FMA {ceil.get('fma_flops_per_s', 0) / 1e12:.1f} TFLOP/s, "
        f"device copy {ceil.get('copy_bytes_per_s', 0) / 1e9:.0f} GB/s (read + write). Floor = max(FLOPs / FMA rate, "
        f"minimal bytes / copy rate); % of floor = floor / measured.")
    out.append("")

    pts = index_points(data)
    out.append("**Whole calls** (ms, median; sampling: B samples; density: B value sets; one task):")
    out.append("")
    out.append("| sweep | B | Nc | Nt | sample fused | split | reencode | density fused | split | reencode "
               "| sample % floor | density % floor | sample peak GiB | speed-up over reencode (sample, fused) |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for sweep, b, nc, nt in sweep_shapes(data):
        cells = [sweep, str(b), str(nc), str(nt)]
        for job in JOBS:
            for mode in MODES:
                cells.append(cell_ms(pts.get((job, mode, b, nc, nt))))
        for job in JOBS:
            p = pts.get((job, "fused", b, nc, nt))
            cells.append(pct(p["floor"]["floor_fraction"]) if p and ok(p) else "-")
        p = pts.get(("sample", "fused", b, nc, nt))
        cells.append(f"{p['peak_device_bytes'] / GIB:.2f}" if p and ok(p) and p.get("peak_device_bytes", -1) >= 0 else "-")
        r, f = pts.get(("sample", "reencode", b, nc, nt)), pts.get(("sample", "fused", b, nc, nt))
        cells.append(f"{r['median_ms'] / f['median_ms']:.1f}x" if r and f and ok(r) and ok(f) else "-")
        out.append("| " + " | ".join(cells) + " |")
    out.append("")

    torch_meta = data.get("torch", {})
    ratios = {r["b"]: r for r in data.get("torch_ratio", [])}
    steps = [s for s in data.get("steps", [])]
    if steps:
        t = steps[0].get("t")
        nc = steps[0].get("nc")
        out.append(f"**One decode step** (Nc {nc}, t {t}, sampling included; CUDA graph replay, median; PyTorch: "
                   f"`bench/torch_baseline/torch_decode_step.py` on the same GPU in the same run, "
                   f"{torch_meta.get('status', 'not run')}; ratio = engine / torch, below 1 the engine is faster):")
        out.append("")
        out.append("| B | fused us | split us | eager fused us | floor us | fused % floor | torch graph us | torch eager us "
                   "| fused / torch | split / torch |")
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for b in sorted({s["b"] for s in steps}):
            fused = next((s for s in steps if s["b"] == b and s["mode"] == "fused"), None)
            split = next((s for s in steps if s["b"] == b and s["mode"] == "split"), None)
            r = ratios.get(b, {})

            def us(v):
                return f"{v:.1f}" if isinstance(v, (int, float)) else "-"

            def step_cell(s, key):
                if s is None:
                    return "-"
                if not ok(s):
                    return "skipped" if s.get("status") == "skipped" else s.get("status", "?")
                return us(s[key])

            out.append("| " + " | ".join([
                str(b), step_cell(fused, "graph_us"), step_cell(split, "graph_us"), step_cell(fused, "eager_us"),
                us(fused["floor"]["floor_s"] * 1e6) if fused and ok(fused) else "-",
                pct(fused["floor"]["floor_fraction"]) if fused and ok(fused) else "-",
                us(r.get("torch_graph_us")), us(r.get("torch_eager_us")),
                f"{r['ratio_fused']:.3f}" if "ratio_fused" in r else "-",
                f"{r['ratio_split']:.3f}" if "ratio_split" in r else "-"]) + " |")
        out.append("")

    profiles = [p for p in data.get("profiles", []) if ok(p)]
    if profiles:
        out.append(f"**Where a decode step goes** (split attention, Nc {profiles[0]['nc']}, t {profiles[0]['t']}; "
                   "us and share of the staged step; stages timed with CUDA events between stage groups, all "
                   "launches queued before the GPU starts; launch gaps = eager - staged):")
        out.append("")
        out.append("| stage | " + " | ".join(f"B {p['b']}" for p in profiles) + " |")
        out.append("|---|" + "---|" * len(profiles))
        names = []
        for p in profiles:
            for s in p["stages"]:
                if s["stage"] not in names:
                    names.append(s["stage"])
        for name in names:
            row = [name.replace("_", " ")]
            for p in profiles:
                s = next((s for s in p["stages"] if s["stage"] == name), None)
                row.append(f"{s['us']:.1f} ({100 * s['us'] / p['staged_us']:.0f}%)" if s else "-")
            out.append("| " + " | ".join(row) + " |")
        for label, key in (("staged step (sum)", "staged_us"), ("eager step", "eager_us"), ("graph replay", "graph_us"),
                           ("host launch gaps (eager - staged)", "host_launch_gaps_us")):
            out.append(f"| {label} | " + " | ".join(f"{p[key]:.1f}" for p in profiles) + " |")
        if not all(p.get("queued_ahead", True) for p in profiles):
            out.append("")
            out.append("(A gate timed out: those intervals include host launch gaps.)")
        out.append("")

    out += precision_markdown(run)
    h = data.get("headline", {})
    if h:
        out.append("Headline: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                                            for k, v in h.items() if k != "center") + ".")
    return "\n".join(out) + "\n"


def chart(run, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = float32_view(run)

    pts = [p for p in data.get("points", []) if ok(p)]
    colors = {"fused": "tab:blue", "split": "tab:orange", "reencode": "tab:red"}
    styles = {"sample": "-o", "density": "--s"}
    fig, axes = plt.subplots(2, 3, figsize=(17, 10))
    c = data.get("settings", {}).get("center", {"b": 256, "nc": 256, "nt": 64})
    for ax, (axis, key) in zip(axes[0], (("B", "b"), ("Nc", "nc"), ("Nt", "nt"))):
        for job in JOBS:
            for mode in MODES:
                sel = sorted((p for p in pts if p["job"] == job and p["mode"] == mode and axis in p.get("sweeps", [])),
                             key=lambda p: p[key])
                if sel:
                    ax.plot([p[key] for p in sel], [p["median_ms"] for p in sel], styles[job], color=colors[mode],
                            label=f"{job} {mode}", markersize=4)
            sel = sorted((p for p in pts if p["job"] == job and p["mode"] == "fused" and axis in p.get("sweeps", [])),
                         key=lambda p: p[key])
            if sel:
                ax.plot([p[key] for p in sel], [1e3 * p["floor"]["floor_s"] for p in sel], ":", color="gray",
                        label=f"{job} floor" if job == "sample" else "density floor")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        others = {"b": f"Nc {c['nc']}, Nt {c['nt']}", "nc": f"B {c['b']}, Nt {c['nt']}", "nt": f"B {c['b']}, Nc {c['nc']}"}
        ax.set_title(f"whole calls vs {axis} ({others[key]})")
        ax.set_xlabel(axis)
        ax.set_ylabel("ms (median)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)

    ax = axes[1][0]
    for s_axis, key, marker in (("Nt", "nt", "o"), ("B", "b", "^")):
        for job in JOBS:
            for mode in ("fused", "split"):
                sel = sorted((s for s in data.get("speedup_over_reencode", [])
                              if s["job"] == job and s_axis in s.get("sweeps", []) and f"speedup_{mode}" in s),
                             key=lambda s: s[key])
                if sel:
                    ax.plot([s[key] for s in sel], [s[f"speedup_{mode}"] for s in sel], styles[job][:-1] + marker,
                            color=colors[mode], label=f"{job} {mode} vs {s_axis}", markersize=5,
                            alpha=1.0 if s_axis == "Nt" else 0.5)
    ax.set_xscale("log", base=2)
    ax.set_title("speed-up over reencode (whole calls)")
    ax.set_xlabel("Nt (B 256) or B (Nt 64)")
    ax.set_ylabel("reencode time / buffered engine time")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)

    ax = axes[1][1]
    profiles = [p for p in data.get("profiles", []) if ok(p)]
    if profiles:
        names = []
        for p in profiles:
            for s in p["stages"]:
                if s["stage"] not in names:
                    names.append(s["stage"])
        names.append("host launch gaps")
        cmap = plt.get_cmap("tab20")
        labels = [f"B {p['b']}" for p in profiles]
        left = [0.0] * len(profiles)
        for i, name in enumerate(names):
            vals = []
            for p in profiles:
                if name == "host launch gaps":
                    v = max(0.0, p["host_launch_gaps_us"])
                else:
                    v = next((s["us"] for s in p["stages"] if s["stage"] == name), 0.0)
                vals.append(100.0 * v / (p["staged_us"] + max(0.0, p["host_launch_gaps_us"])))
            ax.barh(labels, vals, left=left, color=cmap(i % 20), label=name.replace("_", " "))
            left = [a + v for a, v in zip(left, vals)]
        for j, p in enumerate(profiles):
            ax.text(101, j, f"eager {p['eager_us']:.0f} us\ngraph {p['graph_us']:.0f} us", va="center", fontsize=7)
        ax.set_xlim(0, 125)
        ax.set_xlabel("% of the eager step")
        ax.set_title(f"one decode step by stage (split, t {profiles[0]['t']})")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.45, -0.12), ncol=4)

    ax = axes[1][2]
    steps = [s for s in data.get("steps", []) if ok(s)]
    for mode in ("fused", "split"):
        sel = sorted((s for s in steps if s["mode"] == mode), key=lambda s: s["b"])
        if sel:
            ax.plot([s["b"] for s in sel], [s["graph_us"] for s in sel], "-o", color=colors[mode], label=f"engine {mode} (graph)")
    sel = sorted((s for s in steps if s["mode"] == "fused"), key=lambda s: s["b"])
    if sel:
        ax.plot([s["b"] for s in sel], [1e6 * s["floor"]["floor_s"] for s in sel], ":", color="gray", label="floor")
    # The other precisions' fused steps (the run's, not the float32 view's).
    others = [s for s in run.get("steps", []) if ok(s) and s["mode"] == "fused" and precision(s) != "float32"]
    for name, marker in zip(sorted({precision(s) for s in others}), ("^", "v", "D")):
        sel = sorted((s for s in others if precision(s) == name), key=lambda s: s["b"])
        ax.plot([s["b"] for s in sel], [s["graph_us"] for s in sel], "--" + marker, color=colors["fused"], alpha=0.6,
                label=f"engine fused, {name} (graph)")
    tr = sorted((r for r in data.get("torch_ratio", []) if r.get("torch_graph_us")), key=lambda r: r["b"])
    if tr:
        ax.plot([r["b"] for r in tr], [r["torch_graph_us"] for r in tr], "-s", color="tab:green", label="PyTorch (graph)")
        ax.plot([r["b"] for r in tr], [r["torch_eager_us"] for r in tr], "--s", color="tab:green", alpha=0.5,
                label="PyTorch (eager)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    if steps:
        ax.set_title(f"one decode step vs B (Nc {steps[0]['nc']}, t {steps[0]['t']})")
    ax.set_xlabel("B")
    ax.set_ylabel("us (median)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)

    gpu = device(data)
    fig.suptitle(f"artabpfn engine, paper config: {gpu.get('name', '?')}, {data.get('date', '?')}, "
                 f"commit {commit(data)[:12]}, mode {data.get('mode', '?')}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def newest_per_gpu(paths):
    """{GPU name: (path, data)} of the run with the latest date per GPU model."""
    newest = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        name = device(data).get("name", "?")
        if name not in newest or data.get("date", "") > newest[name][1].get("date", ""):
            newest[name] = (path, data)
    return newest


def page(intro_path, run_paths, page_path, charts):
    """The performance page: the intro, then per GPU model its newest run's chart and tables."""
    with open(intro_path) as f:
        intro = f.read()
    page_dir = os.path.dirname(os.path.abspath(page_path))
    out = [f"<!-- Generated by bench/e2e/render.sh --docs from {os.path.relpath(intro_path)} and the newest "
           "run per GPU in docs/bench/: edit those, not this file. -->", "", intro.rstrip("\n"), ""]
    for name, (path, data) in sorted(newest_per_gpu(run_paths).items()):
        png = os.path.splitext(path)[0] + ".png"
        if charts:
            chart(data, png)
        out.append(f"## {name}")
        out.append("")
        rel = os.path.relpath(os.path.abspath(path), page_dir)
        out.append(f"Every point of this run is in [`{os.path.basename(path)}`]({rel}).")
        out.append("")
        if os.path.exists(png):
            out.append(f"![end-to-end benchmarks, {name}]({os.path.relpath(os.path.abspath(png), page_dir)})")
            out.append("")
        out.append(markdown(data))
    with open(page_path, "w") as f:
        f.write("\n".join(out).rstrip("\n") + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", nargs="+")
    ap.add_argument("--png")
    ap.add_argument("--markdown")
    ap.add_argument("--page", help="write the performance page from the newest run per GPU")
    ap.add_argument("--intro", help="the page's hand-written beginning (with --page)")
    ap.add_argument("--charts", action="store_true", help="with --page: draw each run's chart beside its JSON")
    args = ap.parse_args()
    if args.page:
        if not args.intro or args.png or args.markdown:
            ap.error("--page needs --intro and takes neither --png nor --markdown")
        page(args.intro, args.json, args.page, args.charts)
        return 0
    if len(args.json) != 1:
        ap.error("give one E2E.json without --page")
    with open(args.json[0]) as f:
        data = json.load(f)
    md = markdown(data)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)
    else:
        sys.stdout.write(md)
    if args.png:
        chart(data, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
