"""Speed of the analysis battery: `score(create_model('cochresnet_small'))` on the `paper` set less the external-dataset
benchmarks (ESC-50, NSynth, Speech Commands, NH2015/B2021 voxels: absent here, so those rows are `skipped` in
milliseconds), with the three controls (cochleagram, random-init, weight-permuted), on 2 CPU cores.

    python bench/battery.py                # first run into a fresh cache dir, then a rerun from the cache
    python bench/battery.py --threads 2

Targets (issue 11): first run <= 3 min, rerun from the cache <= 10 s. Wall-clock and process CPU time are printed (CPU
time is less disturbed by other processes on a shared machine; the load average is printed too, and the numbers are
labelled "under load" when it exceeds the thread count). Results go to bench/out/battery.json.
"""
import argparse, json, os, tempfile, time
from pathlib import Path

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--model', default='cochresnet_small')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    from threadpoolctl import threadpool_limits
    from topoaudio.backbones import create_model
    from topoaudio.battery import score
    out = {}
    with threadpool_limits(a.threads), tempfile.TemporaryDirectory() as d:
        for run in ('first', 'rerun'):
            m = create_model(a.model, seed=0)
            load0, w0, c0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
            rep = score(m, 'paper', cache_dir=d, progress=False)
            out[run] = dict(wall_s=round(time.perf_counter() - w0, 2), cpu_s=round(time.process_time() - c0, 2),
                            load_avg=round(max(load0, os.getloadavg()[0]), 2), cache=rep.meta['cache'])
            out[run]['under_load'] = out[run]['load_avg'] > a.threads
    st = rep.df.status.value_counts().to_dict()
    out.update(model=a.model, threads=a.threads, statuses=st,
               per_benchmark_s=rep.df.groupby('benchmark').seconds.sum().round(2).to_dict())
    for run in ('first', 'rerun'):
        r = out[run]
        print(f"{run:6s}: {r['wall_s']:7.1f} s wall, {r['cpu_s']:7.1f} s CPU, load avg {r['load_avg']}"
              f"{' (measured under load)' if r['under_load'] else ''}; cache {r['cache']}")
    print('statuses:', st)
    Path('bench/out').mkdir(parents=True, exist_ok=True)
    Path('bench/out/battery.json').write_text(json.dumps(out, indent=1) + '\n')


if __name__ == '__main__': main()
