"""Speed of the vectorised searchlight RSA (topoaudio.rsa.searchlight_rsa) against rsatoolbox's
get_searchlight_RDMs + compare, side by side on the same problem.

    python bench/rsa.py                      # 165 sounds, the 7,694 NH2015 voxels, 30-voxel neighbourhoods, 7 stage RDMs
    python bench/rsa.py --centres 2000 --rounds 1

Problem: synthetic responses (165 × 7,694, Gaussian) on the real NH2015 flat-map layout (fetch.voxel_meta), neighbourhoods
from rsa.meta_neighbourhoods (30 nearest voxels within subject × hemisphere), 7 random model RDMs. Both sides compute
the brain RDM (1 − Pearson) of every neighbourhood and its Spearman correlation with every model RDM. `--centres` limits
rsatoolbox to the first N centres (ours always runs all of them) (the per-centre cost of either does not depend on N). The results are checked to be
equal (max abs difference printed). Wall-clock and process CPU time are reported on one thread (OMP/MKL threads = 1);
CPU time is less disturbed by other processes on a shared machine. Results go to bench/out/rsa.json.
"""
import argparse, json, os, time, warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from topoaudio.fetch import voxel_meta
from topoaudio.rsa import meta_neighbourhoods, rdm, searchlight_rsa


def timed(f):
    t, c = time.perf_counter(), time.process_time()
    out = f()
    return out, time.perf_counter() - t, time.process_time() - c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--centres', type=int, default=None, help='first N centres only (default: all 7,694)')
    ap.add_argument('--rounds', type=int, default=1)
    ap.add_argument('--n-voxels', type=int, default=30)
    ap.add_argument('--stages', type=int, default=7)
    args = ap.parse_args()
    from rsatoolbox.rdm import RDMs, compare
    from rsatoolbox.util.searchlight import get_searchlight_RDMs
    rng = np.random.default_rng(0)
    meta = voxel_meta()
    nb = meta_neighbourhoods(meta, n_voxels=args.n_voxels)
    n = 165
    Y = rng.standard_normal((n, len(meta)))
    M = np.stack([rdm(rng.standard_normal((n, 50))) for _ in range(args.stages)])
    C = len(nb) if args.centres is None else args.centres
    res = dict(n_sounds=n, n_centres=C, n_voxels=args.n_voxels, n_stages=args.stages, ours=[], rsatoolbox=[])
    with threadpool_limits(1):
        for _ in range(args.rounds):
            ours, w, c = timed(lambda: searchlight_rsa(Y, nb, M))          # always all 7,694 centres
            res['ours'].append(dict(wall=w, cpu=c))
            def theirs():
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    sl = get_searchlight_RDMs(Y, np.arange(C), nb[:C], np.arange(n), method='correlation', verbose=False)
                    return compare(RDMs(M), sl, method='spearman')      # (stages, C)
            ref, w, c = timed(theirs)
            res['rsatoolbox'].append(dict(wall=w, cpu=c))
    res['max_abs_diff'] = float(np.abs(ours['r'][:, :C] - ref).max())
    per = lambda side, k, N: min(r[k] for r in res[side]) / N * 1e3
    for k in ('cpu', 'wall'):
        res[f'ours_{k}_ms_per_centre'] = per('ours', k, len(nb))
        res[f'rsatoolbox_{k}_ms_per_centre'] = per('rsatoolbox', k, C)
        res[f'speedup_{k}'] = res[f'rsatoolbox_{k}_ms_per_centre'] / res[f'ours_{k}_ms_per_centre']
    print(json.dumps(res, indent=1))
    out = Path(__file__).parent / 'out'; out.mkdir(exist_ok=True)
    (out / 'rsa.json').write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
