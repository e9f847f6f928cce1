"""Speed of the non-parametric ICA (topoaudio.decomposition.nonparametric_ica) at NH2015 scale, side by side with the
`npica` package (PyPI: npica 0.0.1, a Python port of Norman-Haignere's nonparametric_ica.m).

    python bench/decomposition.py                  # 165 × 11,065, K = 6, 10 starts; ours (numba, 1 and 2 threads; numpy) vs npica
    python bench/decomposition.py --rounds 5 --no-npica

Data: D = R·W from the published components (components.mat) plus 5% Gaussian noise — the size and the structure of
the NH2015 voxel matrix. Reports, for each configuration, wall-clock and process CPU time (median over rounds), the
number of pair evaluations (61 angles each), and the recovery of the published profiles (min r after greedy
matching); then the speed-up over npica (wall and CPU) and the agreement of the components (min r after greedy
matching) between our engines and with npica. npica is imported lazily (`pip install npica`; bench-only).
Results are printed and written to bench/out/decomposition.json. Needs TOPOAUDIO_DATA (or network).
Run it on an idle machine: on a shared one, label the numbers "measured under load" (the CPU times suffer less).
"""
import argparse, json, os, statistics, time
from pathlib import Path

import numpy as np

from topoaudio.fetch import nh2015_components
from topoaudio.decomposition import nonparametric_ica, match_greedy


def timed(f, rounds):
    wall, cpu, res = [], [], None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        res = f()
        wall.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
    return res, statistics.median(wall), statistics.median(cpu), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--npica-rounds', type=int, default=1)
    ap.add_argument('--starts', type=int, default=10)
    ap.add_argument('--no-npica', action='store_true', help='skip the npica comparison')
    ap.add_argument('--out', default=str(Path(__file__).parent / 'out' / 'decomposition.json'))
    a = ap.parse_args()
    comp = nh2015_components()
    D = comp['R'] @ comp['W']
    D = D + 0.05 * D.std() * np.random.default_rng(1).standard_normal(D.shape)
    nonparametric_ica(D[:, :2000], 6, n_starts=1)                           # warm-up (and numba compile / cache load)
    rows, R = [], {}
    for name, kw, rounds in [('topoaudio numba, 1 thread', dict(engine='numba', n_jobs=1), a.rounds),
                             ('topoaudio numba, 2 threads', dict(engine='numba', n_jobs=2), a.rounds),
                             ('topoaudio numpy, 1 thread', dict(engine='numpy', n_jobs=1), max(1, a.rounds // 2))]:
        res, wall, cpu, walls = timed(lambda: nonparametric_ica(D, 6, n_starts=a.starts, seed=0, **kw), rounds)
        R[name] = res['R']
        rows.append(dict(name=name, wall_s=wall, cpu_s=cpu, wall_all=walls, pair_evaluations=int(res['evals'].sum()),
                         min_r_published=float(match_greedy(res['R'], comp['R'])[1].min())))
    if not a.no_npica:
        import npica                                                        # bench-only dependency
        def run_npica():
            ica = npica.ICA(6, N_RANDOM_INITS=a.starts, RAND_SEED=1)
            return ica.nonparametric_ica(D)[0]
        Rn, wall, cpu, walls = timed(run_npica, a.npica_rounds)
        R['npica'] = Rn
        rows.append(dict(name='npica 0.0.1', wall_s=wall, cpu_s=cpu, wall_all=walls, pair_evaluations=None,
                         min_r_published=float(match_greedy(Rn, comp['R'])[1].min())))
    base = next((r for r in rows if r['name'] == 'npica 0.0.1'), None)
    print(f"D {D.shape[0]} × {D.shape[1]}, K = 6, {a.starts} starts, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs\n")
    print('| configuration | wall (s) | CPU (s) | pair evaluations | min r vs published | speed-up vs npica (wall / CPU) |')
    print('|---|---|---|---|---|---|')
    for r in rows:
        if base: r['speedup_wall'], r['speedup_cpu'] = base['wall_s'] / r['wall_s'], base['cpu_s'] / r['cpu_s']
        sp = f"{r['speedup_wall']:.1f}× / {r['speedup_cpu']:.1f}×" if base else '—'
        print(f"| {r['name']} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['pair_evaluations'] or '—'} "
              f"| {r['min_r_published']:.4f} | {sp} |")
    agree = {f'{x} vs {y}': float(match_greedy(R[x], R[y])[1].min()) for x, y in
             [('topoaudio numba, 1 thread', 'topoaudio numpy, 1 thread'), ('topoaudio numba, 2 threads', 'topoaudio numpy, 1 thread')]
             + ([('topoaudio numba, 1 thread', 'npica')] if base else [])}
    print('\ncomponent agreement (min r after greedy matching):', {k: round(v, 4) for k, v in agree.items()})
    out = dict(shape=list(D.shape), K=6, starts=a.starts, loadavg=os.getloadavg()[0], rows=rows, agreement=agree)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
