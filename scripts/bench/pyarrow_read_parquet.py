#!/usr/bin/env python3
"""Times pyarrow.parquet.read_table and pandas.read_parquet on the Parquet
file the `parquet_read` bench writes (mlops-core/benches/parquet_read.rs),
the peer figures for it.

Usage:
  pip install pandas pyarrow
  cargo bench -p mlops-core --features parquet --bench parquet_read   # writes the file
  python3 scripts/bench/pyarrow_read_parquet.py [FILE.parquet] [--runs N]

Prints the median, min and max wall time of N (default 7) reads after one
warm-up read, for each reader.
"""
import argparse
import statistics
import time

import pandas as pd
import pyarrow
import pyarrow.parquet as pq

ap = argparse.ArgumentParser()
ap.add_argument("file", nargs="?", default="/tmp/mlops-bench/synth_1m.parquet")
ap.add_argument("--runs", type=int, default=7)
args = ap.parse_args()

for name, read in [
    ("pyarrow.parquet.read_table", lambda: pq.read_table(args.file)),
    ("pandas.read_parquet", lambda: pd.read_parquet(args.file)),
]:
    read()
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        read()
        times.append(time.perf_counter() - t)
    print(
        f"{name} (pyarrow {pyarrow.__version__}, pandas {pd.__version__}): "
        f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})"
    )
