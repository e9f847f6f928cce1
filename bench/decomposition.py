"""Speed of the non-parametric ICA (topoaudio.decomposition.nonparametric_ica) at NH2015 scale.

    python bench/decomposition.py                  # 165 × 11,065, K = 6, 10 starts, 2 threads
    python bench/decomposition.py --threads 1 --rounds 5

Data: D = R·W from the published components (components.mat) plus 5% Gaussian noise — the size and the structure of
the NH2015 voxel matrix. Reports wall-clock and process CPU time (median over rounds), the number of pair evaluations
(61 angles each), the time per pair evaluation, and the recovery of the published profiles (min r after greedy
matching). Results are printed and written to bench/out/decomposition.json. Needs TOPOAUDIO_DATA (or network).
"""
import argparse, json, statistics, time
from pathlib import Path

import numpy as np

from topoaudio.fetch import nh2015_components
from topoaudio.decomposition import nonparametric_ica, match_greedy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=2, help='threads over random starts (n_jobs)')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--starts', type=int, default=10)
    ap.add_argument('--out', default=str(Path(__file__).parent / 'out' / 'decomposition.json'))
    a = ap.parse_args()
    comp = nh2015_components()
    D = comp['R'] @ comp['W']
    D = D + 0.05 * D.std() * np.random.default_rng(1).standard_normal(D.shape)
    nonparametric_ica(D[:, :2000], 6, n_starts=1)                           # warm-up
    wall, cpu = [], []
    for r in range(a.rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        res = nonparametric_ica(D, 6, n_starts=a.starts, seed=0, n_jobs=a.threads)
        wall.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    _, r = match_greedy(res['R'], comp['R'])
    ev = int(res['evals'].sum())
    out = dict(shape=list(D.shape), K=6, starts=a.starts, threads=a.threads, wall_s=statistics.median(wall),
               cpu_s=statistics.median(cpu), wall_all=wall, pair_evaluations=ev,
               ms_cpu_per_pair_evaluation=1e3 * statistics.median(cpu) / ev, sweeps=res['sweeps'].tolist(),
               min_r_recovered=float(r.min()))
    print(f"| D | K | starts | threads | wall (s) | CPU (s) | pair evaluations | CPU ms / evaluation | min r |\n"
          f"|---|---|---|---|---|---|---|---|---|\n"
          f"| {D.shape[0]} × {D.shape[1]} | 6 | {a.starts} | {a.threads} | {out['wall_s']:.2f} | {out['cpu_s']:.2f} "
          f"| {ev} | {out['ms_cpu_per_pair_evaluation']:.2f} | {out['min_r_recovered']:.4f} |")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
