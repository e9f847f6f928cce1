"""Tuning-subspace analysis of the trained τ = 0 and τ = 50 `cochresnet_small` demo runs (the default configuration of
nbs/14_subspace.ipynb: every topographic layer, 16 units, 300 frames, 100 + 65 natural sounds), with timings.

    python bench/subspace.py [--out results.json] [--layers layer1.0.conv2,...] [--taus 0,50]

Trains the two runs first if they are not cached (the same runs and cache directory as 09_topography)."""
import argparse, json, os, resource, time
from pathlib import Path
import numpy as np
import torch
from topoaudio.subspace import analyse_layer, layer_summary
from topoaudio.trainer import TrainConfig, train, load_model
from topoaudio.fetch import cache_dir, natsound_table
from topoaudio.cochleagram import load_audio, prep_wave

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', default=None); ap.add_argument('--layers', default=None, help='comma-separated layer names (default: every topographic layer)')
    ap.add_argument('--taus', default='0,50')
    a = ap.parse_args()
    tab = natsound_table()
    idx = np.random.default_rng(0).permutation(len(tab))[:165]
    waves = np.stack([prep_wave(*load_audio(p), dur=2.0, sr_out=20000) for p in tab.path.iloc[idx]]).astype(np.float32)
    rows = []
    for tau in [int(t) for t in a.taus.split(',')]:
        cfg = TrainConfig(arch='cochresnet_small', tau=float(tau), seed=0, steps=300, batch_size=32, ckpt_every=0,
                          log_every=10, out_dir=str(cache_dir()/'demo_runs'/'09_topography'/f'tau{tau}_300'))
        if not (Path(cfg.out_dir)/'summary.json').exists(): train(cfg)
        m = load_model(cfg.out_dir)
        with torch.no_grad(): C = torch.cat([m.cochleagram(torch.as_tensor(waves[i:i + 16])) for i in range(0, 165, 16)])[:, 0].numpy()
        for L in (a.layers.split(',') if a.layers else m.topo_layers):
            t0, c0 = time.time(), time.process_time()
            r = layer_summary(analyse_layer(m, L, C[:100], C[100:], n_units=16, n_lags=20, frames=300))
            r.update(tau=tau, wall_s=round(time.time() - t0, 1), cpu_s=round(time.process_time() - c0, 1))
            rows.append(r); print(json.dumps(r), flush=True)
            if a.out: Path(a.out).write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
