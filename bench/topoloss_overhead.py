"""Train-step overhead of TopoLoss on CPU: τ > 0 against a plain step (no TopoLoss call).

    python bench/topoloss_overhead.py                      # cochresnet50 (batch 2, 4) + cochresnet_small, ast_small (16)
    python bench/topoloss_overhead.py --models cochresnet50 --batch 4 --rounds 5 --threads 2

A step = forward on cochleagram inputs (the front end is left out, so the overhead is relative to the network
alone — the conservative choice), the Word-Speaker-Noise loss (word CE + 0.25 speaker CE + 300 background BCE),
+ τ·TopoLoss over `model.topo_layers` when τ > 0, backward, SGD step. Plain and topographic steps are interleaved in
rounds (after warm-up) so that load from other processes hits both alike; medians are reported. The TopoLoss
forward+backward is also timed on its own (it depends only on the weights, not on the batch), which is the more
reliable number on a busy machine. Both wall-clock and process CPU time are reported: with one thread, CPU time is
what the step would take on an idle core and is far less disturbed by other processes than wall time (shared caches
and memory bandwidth still are). Results are printed as a markdown table and written to bench/out/ as JSON.
"""
import argparse, json, os, statistics, time
from pathlib import Path

import torch
import torch.nn.functional as F

from topoaudio.backbones import create_model, COCH_SIZE, MODELS
from topoaudio.topoloss import TopoLoss


def wsn_loss(out, y):
    return (F.cross_entropy(out['word'], y['word']) + 0.25 * F.cross_entropy(out['speaker'], y['speaker'])
            + 300 * F.binary_cross_entropy_with_logits(out['background'], y['background']))


def bench_model(name, batch, rounds, steps, warmup, tau, topo_reps):
    fe = MODELS[name]['frontend']
    model = create_model(name, frontend=None, seed=0).train()
    topo = TopoLoss(model.topo_layers, tau=tau)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(batch, 1, *COCH_SIZE[fe], generator=g)
    y = dict(word=torch.randint(0, 794, (batch,), generator=g), speaker=torch.randint(0, 433, (batch,), generator=g),
             background=(torch.rand(batch, 517, generator=g) < 0.01).float())

    def step(with_topo):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = wsn_loss(model(x), y)
        if with_topo: loss = loss + topo(model)
        loss.backward(); opt.step()
        return time.perf_counter() - t0, time.process_time() - c0

    for _ in range(warmup): step(False); step(True)
    plain, topo_t = [], []
    for r in range(rounds):
        first, second = (plain, topo_t) if r % 2 == 0 else (topo_t, plain)
        for _ in range(steps): first.append(step(first is topo_t))
        for _ in range(steps): second.append(step(second is topo_t))

    alone = []
    for _ in range(topo_reps):
        opt.zero_grad(set_to_none=True)
        t0, c0 = time.perf_counter(), time.process_time(); topo(model).backward()
        alone.append((time.perf_counter() - t0, time.process_time() - c0))

    med = lambda v, i: statistics.median(t[i] for t in v)
    r = dict(model=name, batch=batch, input=[1, *COCH_SIZE[fe]], n_topo_layers=len(model.topo_layers),
             n_steps_each=len(plain), threads=torch.get_num_threads())
    for i, clock in enumerate(('wall', 'cpu')):
        mp, mt, ma = med(plain, i), med(topo_t, i), med(alone, i)
        r[clock] = dict(step_plain_s=mp, step_topo_s=mt, overhead_steps_pct=100 * (mt - mp) / mp,
                        topo_fwd_bwd_s=ma, overhead_isolated_pct=100 * ma / mp,
                        plain_minmax_s=[min(t[i] for t in plain), max(t[i] for t in plain)])
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--models', nargs='+', default=['cochresnet50', 'cochresnet_small', 'ast_small'], choices=list(MODELS))
    ap.add_argument('--batch', type=int, nargs='+', default=[2, 4], help='batch(es) for cochresnet50/ast_base')
    ap.add_argument('--small-batch', type=int, nargs='+', default=[16], help='batch(es) for the small presets')
    ap.add_argument('--rounds', type=int, default=4)
    ap.add_argument('--steps', type=int, default=2, help='steps per mode per round')
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--tau', type=float, default=50.0)
    ap.add_argument('--topo-reps', type=int, default=20)
    ap.add_argument('--threads', type=int, default=1, help='torch intra-op threads (1 = least disturbed by other load)')
    ap.add_argument('--out', default=str(Path(__file__).parent / 'out' / 'topoloss_overhead.json'))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for name, b in [(n, b) for n in a.models for b in (a.small_batch if n.endswith('small') else a.batch)]:
        rows.append(bench_model(name, b, a.rounds, a.steps, a.warmup, a.tau, a.topo_reps))
        for clock in ('wall', 'cpu'):
            r = rows[-1][clock]
            print(f"{name} b={b} [{clock}]: plain {r['step_plain_s']*1e3:.1f} ms, topo {r['step_topo_s']*1e3:.1f} ms "
                  f"({r['overhead_steps_pct']:+.2f} %), TopoLoss fwd+bwd alone {r['topo_fwd_bwd_s']*1e3:.2f} ms "
                  f"({r['overhead_isolated_pct']:.2f} %)", flush=True)
    meta = dict(torch=torch.__version__, threads=a.threads, tau=a.tau, cpu_count=os.cpu_count(),
                loadavg=os.getloadavg(), time=time.strftime('%Y-%m-%d %H:%M:%S'))
    print('\n| model | batch | clock | plain step | τ>0 step | overhead (interleaved steps) | TopoLoss fwd+bwd alone | as % of plain step |')
    print('|---|---|---|---|---|---|---|---|')
    for row in rows:
        for clock in ('cpu', 'wall'):
            r = row[clock]
            print(f"| {row['model']} | {row['batch']} | {clock} | {r['step_plain_s']*1e3:.0f} ms | "
                  f"{r['step_topo_s']*1e3:.0f} ms | {r['overhead_steps_pct']:+.1f} % | {r['topo_fwd_bwd_s']*1e3:.1f} ms | "
                  f"{r['overhead_isolated_pct']:.2f} % |")
    print(f"\n{meta}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(dict(meta=meta, rows=rows), indent=1))


if __name__ == '__main__':
    main()
