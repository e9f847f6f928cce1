"""Tuning-subspace analysis of `cochresnet_small` in two conditions — the trained τ = 0 and τ = 50 demo runs (the same
300-step runs and cache as 09_topography; trained here if absent), and the stand-ins random init vs TopoLoss-only
(`encoding.topoloss_only`) — with the default configuration of nbs/14_subspace.ipynb (16 units in a central sheet
patch, 300 frames, 20 lags, 100 + 65 natural sounds), per-layer timings, and the notebook's figures.

    python bench/subspace.py [--conditions tau0,tau50,random,topoonly] [--layers layer1.0.conv2,...]
                             [--out results.json] [--figures nbs/figures]
"""
import argparse, json, time
from pathlib import Path
import numpy as np
import torch
from topoaudio.subspace import analyse_layer, layer_summary, plot_dstrfs, plot_sheet_curves
from topoaudio.fetch import cache_dir, natsound_table
from topoaudio.cochleagram import load_audio, prep_wave

def model_for(cond):
    "The model of a condition and its honest label."
    from topoaudio.backbones import create_model
    if cond in ('random', 'topoonly'):
        from topoaudio.encoding import topoloss_only
        base = create_model('cochresnet_small', seed=0).eval()
        return (base, 'random init (stand-in)') if cond == 'random' else (topoloss_only(base, steps=300, lr=1e-2, tau=50.0), 'TopoLoss-only, 300 steps (stand-in)')
    from topoaudio.trainer import TrainConfig, train, load_model
    tau = int(cond[3:])
    cfg = TrainConfig(arch='cochresnet_small', tau=float(tau), seed=0, steps=300, batch_size=32, ckpt_every=0,
                      log_every=10, out_dir=str(cache_dir()/'demo_runs'/'09_topography'/f'tau{tau}_300'))
    while not (Path(cfg.out_dir)/'summary.json').exists():
        if not (Path(cfg.out_dir)/'config.json').exists(): train(cfg)   # nobody is training it: train it here
        else: time.sleep(30)                                           # another process is training it: wait
    return load_model(cfg.out_dir), f'trained τ = {tau}'

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--conditions', default='tau0,tau50')
    ap.add_argument('--layers', default=None, help='comma-separated layer names (default: every topographic layer)')
    ap.add_argument('--out', default=None); ap.add_argument('--figures', default=None)
    a = ap.parse_args()
    tab = natsound_table()
    idx = np.random.default_rng(0).permutation(len(tab))
    waves = np.stack([prep_wave(*load_audio(p), dur=2.0, sr_out=20000) for p in tab.path.iloc[idx]]).astype(np.float32)
    rows, keep = [], {}
    for cond in a.conditions.split(','):
        m, label = model_for(cond)
        with torch.no_grad(): C = torch.cat([m.cochleagram(torch.as_tensor(waves[i:i + 16])) for i in range(0, 165, 16)])[:, 0].numpy()
        for L in (a.layers.split(',') if a.layers else m.topo_layers):
            t0, c0 = time.time(), time.process_time()
            res = analyse_layer(m, L, C[:100], C[100:], n_units=16, n_lags=20, frames=300)
            r = dict(layer_summary(res), condition=label, wall_s=round(time.time() - t0, 1), cpu_s=round(time.process_time() - c0, 1))
            rows.append(r); print(json.dumps(r), flush=True)
            g = res['sheet']
            keep[(label, L)] = dict(sheet={k: g[k] for k in ('distance', 'similarity', 'slope', 'p', 'mean', 'null')},
                                    examples=res['dstrf'].d[0, :4], pcs=res['subspace'].pcs[0, :3], unit=int(res['units'][0]))
            if a.out:
                Path(a.out).write_text(json.dumps(rows, indent=1))
                torch.save(keep, Path(a.out).with_suffix('.pt'))
    if a.figures: figures(rows, keep, Path(a.figures))

def figures(rows, keep, d):
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    conds = list(dict.fromkeys(r['condition'] for r in rows))
    layers = list(dict.fromkeys(r['layer'] for r in rows))
    (lab, L), k = next(iter(keep.items()))
    plot_dstrfs(np.concatenate([k['examples'], k['pcs']]), titles=[f'dSTRF {i + 1}' for i in range(4)] + ['PC1', 'PC2', 'PC3'],
                title=f'{lab}, {L}, unit {k["unit"]}: dSTRFs at four frames and the first PCs', path=d/'subspace_dstrfs.png')
    fig, ax = plt.subplots(1, 2, figsize=(8, 2.8))
    for c in conds:
        rr = [next(r for r in rows if r['condition'] == c and r['layer'] == L) for L in layers if any(r['condition'] == c and r['layer'] == L for r in rows)]
        ax[0].plot([layers.index(r['layer']) for r in rr], [r['dim'] for r in rr], 'o-', label=c)
        ax[1].plot([layers.index(r['layer']) for r in rr], [r['complexity'] for r in rr], 'o-', label=c)
    for a_, lab_ in zip(ax, ['dimensionality (90 % var.), median', 'complexity index, median']):
        a_.set_xticks(range(len(layers))); a_.set_xticklabels([l.replace('.conv2', '') for l in layers], rotation=45, fontsize=7); a_.set_ylabel(lab_, fontsize=8)
    ax[0].legend(fontsize=6); fig.savefig(d/'subspace_dims.png', dpi=90, bbox_inches='tight')
    show = [L for L in layers if L.endswith('.0.conv2')] or layers      # the first block of each stage
    fig, ax = plt.subplots(1, len(show), figsize=(3.6 * len(show), 3), squeeze=False)
    for a_, L in zip(ax[0], show):
        trained = [c for c in conds if c.startswith('trained')] or conds     # same conditions (and colours) in every panel
        plot_sheet_curves({c: keep[(c, L)]['sheet'] for c in trained if (c, L) in keep}, ax=a_, title=L)
    fig.savefig(d/'subspace_sheet.png', dpi=90, bbox_inches='tight')

if __name__ == '__main__': main()
