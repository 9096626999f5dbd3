#!/usr/bin/env python3
"""Times pandas.read_csv on a synthetic churn file, the peer figure for the
`csv_read` criterion benchmark (mlops-core/benches/csv_read.rs).

Usage:
  pip install pandas pyarrow
  python3 scripts/bench/pandas_read_csv.py [FILE.csv] [--runs N]

Without FILE the script writes /tmp/mlops-bench/synth_1m.csv with the release
CLI (`cargo run --release -p mlops-cli -- data synth --rows 1000000 --seed 42
--out ...`), the same bytes the benchmark generates. It prints the median,
min and max wall time of N (default 5) reads, after one warm-up read.
pandas reads with its default C engine and default options. pandas 3 keeps
text columns as Arrow-backed strings when pyarrow is installed; without it
they are Python objects and the read is 4 to 6 times slower, so the figures
in BENCHMARKS.md are with pyarrow (the script prints which).
"""
import argparse
import pathlib
import platform
import statistics
import subprocess
import sys
import time

import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT = pathlib.Path("/tmp/mlops-bench/synth_1m.csv")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", type=pathlib.Path)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    path = args.file
    if path is None:
        path = DEFAULT
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["cargo", "run", "--quiet", "--release", "-p", "mlops-cli", "--",
                 "data", "synth", "--rows", "1000000", "--seed", "42", "--out", str(path)],
                cwd=ROOT, check=True,
            )
    size_mb = path.stat().st_size / 1e6
    df = pd.read_csv(path)  # warm-up: page cache and imports
    rows, cols = df.shape
    del df
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        df = pd.read_csv(path)
        times.append(time.perf_counter() - start)
        del df
    med = statistics.median(times)
    print(f"file: {path} ({size_mb:.1f} MB, {rows} rows x {cols} columns)")
    try:
        import pyarrow

        arrow = f"pyarrow {pyarrow.__version__}"
    except ImportError:
        arrow = "no pyarrow (object strings)"
    print(f"pandas {pd.__version__}, {arrow}, Python {platform.python_version()}, {sys.platform}")
    print(f"pandas.read_csv: median {med:.3f} s, min {min(times):.3f} s, max {max(times):.3f} s "
          f"over {args.runs} runs ({size_mb / med:.0f} MB/s)")


if __name__ == "__main__":
    main()
