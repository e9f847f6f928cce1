"""Speed of the voxelwise encoding pipeline (topoaudio.encoding.encode) at full NH2015 scale, against a per-voxel
scikit-learn RidgeCV loop (the published implementation's structure).

    python bench/encoding.py                       # 13,568 features, 7,694 voxels × 3 reps, 10 splits, 100 alphas
    python bench/encoding.py --threads 2 --sk-voxels 8 --rounds 3

Features: 165 × 13,568 (the size of CochResNet50 layer1 averaged over time) with a power-law spectrum (singular
values ∝ k^-1.5 plus a mean offset) — realistic for network activations, and harder than white noise because more
alphas are distinct. Targets: `synthetic_voxels` built from the six NH2015 components on the real 7,694-voxel layout,
three repetitions, so the run includes the noise correction (4 × 7,694 = 30,776 ridge targets per split).
The scikit-learn reference fits RidgeCV(alphas) once per voxel on the repetition mean and once per repetition
(4 fits per voxel and split, as Tuckute et al.'s ridgeCV_correctedR2) for a few voxels of one split; its time is
extrapolated to 7,694 voxels × 10 splits, and its test r² is checked against ours on those voxels.
Wall-clock and process CPU time are reported (CPU time is less disturbed by other processes on a shared machine).
Results are printed and written to bench/out/encoding.json. Needs TOPOAUDIO_DATA (or network) for the components.
"""
import argparse, json, statistics, time, warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from topoaudio.fetch import nh2015_components, voxel_meta, nh2015_splits
from topoaudio.encoding import ALPHAS, encode, synthetic_voxels, pearson_r


def features(n=165, p=13568, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.standard_normal((n, n)))
    V, _ = np.linalg.qr(rng.standard_normal((p, n)))
    return (U * np.arange(1, n + 1) ** -1.5) @ V.T * 100 + rng.random(p)


def sklearn_voxel(X, Y, tr, te, v):
    "Tuckute et al.'s per-voxel structure: demean with training means, RidgeCV on the mean and on each repetition."
    from sklearn.linear_model import RidgeCV
    def fit(y):
        xm, ym = X[tr].mean(0), y[tr].mean()
        m = RidgeCV(alphas=ALPHAS[::-1]).fit(X[tr] - xm, y[tr] - ym)
        return m.predict(X[te] - xm)
    pm = fit(Y[:, v].mean(1))
    r = max(np.nan_to_num(np.corrcoef(pm, Y[te, v].mean(1))[0, 1]), 0)
    reps = [fit(Y[:, v, k]) for k in range(Y.shape[2])]
    return r ** 2, reps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--rounds', type=int, default=3, help='timed runs of the full pipeline (median reported)')
    ap.add_argument('--sk-voxels', type=int, default=8, help='voxels for the scikit-learn loop (one split)')
    ap.add_argument('--out', default=str(Path(__file__).parent / 'out' / 'encoding.json'))
    a = ap.parse_args()
    X = features()
    syn = synthetic_voxels(nh2015_components()['R'], voxel_meta(), seed=0)
    Y = syn['responses']
    with threadpool_limits(a.threads):
        encode(X[:, :500], Y[:, :200])                                 # warm-up
        wall, cpu = [], []
        for _ in range(a.rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            res = encode(X, Y)
            wall.append(time.perf_counter() - t0); cpu.append(time.process_time() - c0)
        train, test = nh2015_splits()
        tr, te = train[:, 0], test[:, 0]
        vox = np.linspace(0, Y.shape[1] - 1, a.sk_voxels).astype(int)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            t0, c0 = time.perf_counter(), time.process_time()
            sk = [sklearn_voxel(X, Y, tr, te, v) for v in vox]
            sk_wall, sk_cpu = time.perf_counter() - t0, time.process_time() - c0
    sk_r2 = np.array([s[0] for s in sk])
    n_fits = Y.shape[1] * train.shape[1]
    sk_full = sk_wall / len(vox) * n_fits
    out = dict(n_sounds=X.shape[0], n_features=X.shape[1], n_voxels=Y.shape[1], n_reps=Y.shape[2],
               n_splits=train.shape[1], n_alphas=len(ALPHAS), threads=a.threads,
               encode_wall_s=statistics.median(wall), encode_cpu_s=statistics.median(cpu), encode_wall_all=wall,
               sklearn_voxels=len(vox), sklearn_wall_s=sk_wall, sklearn_cpu_s=sk_cpu,
               sklearn_extrapolated_wall_s=sk_full, speedup=sk_full / statistics.median(wall),
               max_abs_r2_diff_vs_sklearn=float(np.abs(sk_r2 - res['r2'][0, vox]).max()))
    print(f"| pipeline | wall (s) | CPU (s) |\n|---|---|---|\n"
          f"| topoaudio encode: {X.shape[1]} features, {Y.shape[1]} voxels × {Y.shape[2]} reps, "
          f"{train.shape[1]} splits, {len(ALPHAS)} alphas, noise correction | {out['encode_wall_s']:.2f} | {out['encode_cpu_s']:.2f} |\n"
          f"| sklearn RidgeCV per voxel ({len(vox)} voxels × 1 split × 4 fits) | {sk_wall:.2f} | {sk_cpu:.2f} |\n"
          f"| sklearn, extrapolated to {Y.shape[1]} voxels × {train.shape[1]} splits | {sk_full:.0f} | |\n"
          f"speed-up {out['speedup']:.0f}×; max |r² difference| vs sklearn on the checked voxels "
          f"{out['max_abs_r2_diff_vs_sklearn']:.1e}; threads {a.threads}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))


if __name__ == '__main__':
    main()
