#!/usr/bin/env python3
"""Tables and plot input for benchmarks/compare.sh (standard library only).

Reads <out>/json/*.json written by edaos-ior (-J) and writes results.tsv, ratios.tsv,
plot.dat and plot.gp (gnuplot script for ratios.png) into <out>; prints the ratio table,
the degraded-read table and the idle-CPU figures. Exit status 1 if a read found wrong bytes.
"""
import json
import os
import sys

PATTERNS = ["easy-ssf", "easy-fpp", "hard", "coll-hard"]
OPS = ["write", "read"]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def bw(doc, op):
    """Mean MiB/s of `op` in an edaos-ior JSON document, or None."""
    if not doc:
        return None
    for s in doc.get("summary", []):
        if s["operation"] == op:
            return s["bwMeanMIB"]
    return None


def main(out):
    jdir = os.path.join(out, "json")
    runs = {}
    bad = 0
    for name in sorted(os.listdir(jdir)):
        if not name.endswith(".json"):
            continue
        doc = load(os.path.join(jdir, name))
        if doc is None:
            continue
        runs[name[:-5]] = doc
        if doc.get("verifyErrors", 0):
            bad += 1
            print(f"VERIFY FAILED: {name}: {doc['verifyErrors']} bytes differ")

    targets = []
    nps = []
    for tag in runs:
        parts = tag.split(".")
        if len(parts) == 4 and parts[1] in PATTERNS:
            if parts[0] not in targets and parts[0] != "baseline":
                targets.append(parts[0])
            np = int(parts[2][2:])
            if np not in nps:
                nps.append(np)
    order = ["S1", "RP_2G1", "EC_2P1G1", "EC_4P2G1", "EC_16P3G1"]
    order += ["dfs-" + c for c in order]
    targets.sort(key=lambda t: order.index(t) if t in order else len(order))
    nps.sort()

    def value(target, pat, np, op):
        return bw(runs.get(f"{target}.{pat}.np{np}.{op}"), op)

    md_lines = ["| pattern | op | np | baseline MiB/s | " + " | ".join(targets) + " |",
          "|---|---|---|---|" + "---|" * len(targets)]
    res = open(os.path.join(out, "results.tsv"), "w")
    rat = open(os.path.join(out, "ratios.tsv"), "w")
    dat = open(os.path.join(out, "plot.dat"), "w")
    res.write("target\tpattern\tranks\top\tMiB/s\n")
    rat.write("pattern\top\tranks\tbaseline_MiB/s\t" + "\t".join(targets) + "\n")
    dat.write("case\t" + "\t".join(targets) + "\n")
    head = f"{'pattern':<10} {'op':<5} {'np':>2} {'baseline':>9} |"
    head += "".join(f" {t:>17}" for t in targets)
    print("\nMiB/s and ratio edaos/baseline (MPI_File_* on ufs: vs daos:, same run)")
    print(head)
    print("-" * len(head))
    for pat in PATTERNS:
        for op in OPS:
            for np in nps:
                base = value("baseline", pat, np, op)
                if base is None and all(value(t, pat, np, op) is None for t in targets):
                    continue
                line = f"{pat:<10} {op:<5} {np:>2} {base if base is not None else float('nan'):>9.1f} |"
                rrow = [pat, op, str(np), f"{base:.2f}" if base else "-"]
                drow = [f"{pat}/{op}/np{np}"]
                if base is not None:
                    res.write(f"baseline\t{pat}\t{np}\t{op}\t{base:.2f}\n")
                for t in targets:
                    v = value(t, pat, np, op)
                    if v is None:
                        line += f" {'-':>17}"
                        rrow.append("-")
                        drow.append("NaN")
                        continue
                    res.write(f"{t}\t{pat}\t{np}\t{op}\t{v:.2f}\n")
                    r = v / base if base else float("nan")
                    line += f" {v:>8.1f} ({r:6.3f})"
                    rrow.append(f"{r:.4f}")
                    drow.append(f"{r:.4f}")
                print(line)
                md_lines.append(f"| {pat} | {op} | {np} | {base if base is not None else float('nan'):.1f} | "
                          + " | ".join(x if x == "-" else f"{float(x):.3f}" for x in rrow[4:]) + " |")
                rat.write("\t".join(rrow) + "\n")
                dat.write("\t".join(drow) + "\n")
    res.close()
    rat.close()
    dat.close()
    md_extra = []

    # Store counters of the write runs (all ranks): where the write path spends its RPCs.
    print("\nStore counters of the write runs (all ranks, all iterations; partial = read-modify-write"
          " of a stripe)")
    print(f"{'target':<14} {'pattern':<10} {'np':>2} {'RPCs':>8} {'RPCs/MiB':>8} {'full':>7} {'partial':>7}"
          f" {'2-phase':>7} {'agg I/O':>7}")
    for pat in PATTERNS:
        for np in nps:
            for t in targets:
                doc = runs.get(f"{t}.{pat}.np{np}.write")
                st = doc.get("edaosStats") if doc else None
                if not st:
                    continue
                reps = max(1, int(doc["params"].get("repetitions", 1)))
                mib = reps * doc["params"]["aggregateBytes"] / 1048576.0
                mp = doc.get("mpioStats") or {}
                print(f"{t:<14} {pat:<10} {np:>2} {st['rpcs']:>8} {st['rpcs'] / mib:>8.1f}"
                      f" {st['fullStripeWrites']:>7} {st['partialStripeWrites']:>7}"
                      f" {mp.get('collTwoPhase', '-'):>7} {mp.get('aggIoCalls', '-'):>7}")

    # Degraded reads: same file, healthy then with p engines down.
    deg_path = os.path.join(out, "degraded.tsv")
    rows = []
    if os.path.exists(deg_path):
        for line in open(deg_path):
            c, n, down = line.rstrip("\n").split("\t")
            w = bw(runs.get(f"deg.{c}.write"), "write")
            h = bw(runs.get(f"deg.{c}.healthy"), "read")
            d = bw(runs.get(f"deg.{c}.degraded"), "read")
            dd = runs.get(f"deg.{c}.degraded", {}).get("edaosStats", {}).get("degradedReads")
            rows.append((c, n, down, w, h, d, dd))
    if rows:
        first = runs.get(f"deg.{rows[0][0]}.write") or {}
        np_deg = first.get("params", {}).get("ranks", max(nps) if nps else 0)
        base = value("baseline", "easy-ssf", np_deg, "read")
        print(f"\nDegraded reads (IOR-easy shared file, MPI-IO, np {np_deg}; pool of k+p engines)")
        print(f"{'class':<10} {'engines':>7} {'down':>6} {'write':>8} {'healthy':>8} {'degraded':>8}"
              f" {'deg/healthy':>11} {'deg/baseline':>12} {'degraded reads':>14}")
        with open(os.path.join(out, "degraded_results.tsv"), "w") as f:
            f.write("class\tengines\tdown\twrite\thealthy_read\tdegraded_read\tdegraded_reads\n")
            md_extra += ["", f"Degraded reads (IOR-easy shared file, MPI-IO, np {np_deg}):", "",
                         "| class | engines | down | healthy MiB/s | degraded MiB/s | degraded/healthy"
                         " | degraded/baseline | degradedReads counter |", "|---|---|---|---|---|---|---|---|"]
            for c, n, down, w, h, d, dd in rows:
                md_extra.append(f"| {c} | {n} | {down} | {h:.1f} | {d:.1f} | "
                                f"{d / h:.3f} | {(d / base) if base else float('nan'):.3f} | {dd} |"
                                if h and d else f"| {c} | {n} | {down} | - | - | - | - | - |")
                fmt = lambda x: f"{x:8.1f}" if x is not None else f"{'-':>8}"
                r1 = f"{d / h:11.3f}" if d and h else f"{'-':>11}"
                r2 = f"{d / base:12.3f}" if d and base else f"{'-':>12}"
                print(f"{c:<10} {n:>7} {down:>6} {fmt(w)} {fmt(h)} {fmt(d)} {r1} {r2} {dd if dd is not None else '-':>14}")
                f.write(f"{c}\t{n}\t{down}\t{w}\t{h}\t{d}\t{dd}\n")

    mp, md = load(os.path.join(jdir, "md.posix.json")), load(os.path.join(jdir, "md.dfs.json"))
    if mp and md:
        print(f"\nMetadata rates (edaos-mdtest, np {md['ranks']}, {md['items_per_rank']} items per rank, "
              f"{md['write_bytes']}-byte files, items/s)")
        print(f"{'operation':<20} {'POSIX (ufs)':>12} {'DFS':>10} {'DFS/POSIX':>10}")
        md_extra += ["", f"Metadata (edaos-mdtest, np {md['ranks']}, {md['items_per_rank']} items per rank):",
                     "", "| operation | POSIX items/s | DFS items/s | DFS/POSIX |", "|---|---|---|---|"]
        base = {r["operation"]: r["mean"] for r in mp["rates"]}
        for r in md["rates"]:
            b = base.get(r["operation"])
            ratio = f"{r['mean'] / b:10.4f}" if b else f"{'-':>10}"
            print(f"{r['operation']:<20} {b if b else float('nan'):12.1f} {r['mean']:10.1f} {ratio}")
            md_extra.append(f"| {r['operation']} | {b if b else float('nan'):.1f} | {r['mean']:.1f} | {ratio.strip()} |")
        if md.get("verifyErrors") or mp.get("verifyErrors"):
            bad += 1

    idle = os.path.join(out, "idle.txt")
    if os.path.exists(idle):
        print("\nIdle CPU (" + idle + "):")
        for line in open(idle):
            if line.startswith("  rank") or line.startswith("##"):
                print("  " + line.strip())

    with open(os.path.join(out, "ratios.md"), "w") as f:
        f.write("\n".join(md_lines + md_extra) + "\n")

    # gnuplot script: clustered bars of the ratios, log scale.
    with open(os.path.join(out, "plot.gp"), "w") as g:
        g.write(f"""set terminal pngcairo size 1400,700 noenhanced
set output '{os.path.join(out, "ratios.png")}'
set title 'edaos / MPICH MPI-IO on ufs (same run): bandwidth ratio per pattern, operation, ranks'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [0.001:10]
set grid ytics
set ylabel 'ratio (1 = baseline)'
set xtics rotate by -40 scale 0
set key outside right top
set datafile missing 'NaN'
f(x) = 1
plot """)
        cols = [f"'{os.path.join(out, 'plot.dat')}' using {i + 2}:xtic(1) title columnheader"
                for i in range(len(targets))]
        g.write(", \\\n     ".join(cols) + ", f(x) with lines lc rgb 'black' dt 2 title 'baseline'\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
