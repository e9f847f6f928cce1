"""Speed and memory of the cochleagram front end on CPU: fast (band-limited) vs naive (full-length inverse FFTs).

    python bench/cochleagram.py                 # batch 1 and 16, 2-s clips, cfg1 and small presets
    python bench/cochleagram.py --threads 1 --batches 1 16 --presets cfg1

Each (preset, method, batch) runs in fresh subprocesses, one for timing and one for memory.
- Throughput: clips per second of wall-clock time for forward passes (no autograd, float32) after a warm-up call,
  best of several repeats. The CPU time per clip (process time, all threads) is printed too, because wall-clock
  numbers on a shared machine depend on its load.
- Peak memory: the largest rise of the resident set size (sampled every 0.2 ms from /proc/self/statm by a watcher
  thread) during one forward pass, after the module, its cached filters and the input exist. That child runs with
  fixed glibc malloc thresholds so that freed memory leaves the RSS (this slows allocation, hence the separate
  timing child with the default allocator).
Prints a markdown table.
"""
import argparse, json, os, subprocess, sys, time

def _rss_mb():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20

def _peak_rss_during(fn, dt=2e-4):
    "Run fn() while a thread samples the resident set size; return (result, peak RSS rise in MB)."
    import threading
    base, peak, done = _rss_mb(), [0.], threading.Event()
    def watch():
        while not done.is_set(): peak[0] = max(peak[0], _rss_mb()); time.sleep(dt)
    t = threading.Thread(target=watch); t.start()
    try: out = fn()
    finally: done.set(); t.join()
    return out, max(peak[0], _rss_mb()) - base

def _run_one(preset, naive, batch, threads, min_time):
    import torch
    from topoaudio.cochleagram import Cochleagram
    if threads: torch.set_num_threads(threads)
    m = Cochleagram(preset, naive=naive)
    x = 0.1 * torch.randn(batch, 40000)
    with torch.no_grad():
        m(x[:1])                                          # build the cached filters, warm up FFT plans
        y, peak = _peak_rss_during(lambda: m(x))
        wall, cpu, t_all = [], [], time.perf_counter()
        while len(wall) < 3 or time.perf_counter() - t_all < min_time:
            t, c = time.perf_counter(), time.process_time(); m(x)
            wall.append(time.perf_counter() - t); cpu.append(time.process_time() - c)
            if len(wall) >= 50: break
    return dict(preset=preset, method='naive' if naive else 'fast', batch=batch, shape=list(y.shape[1:]),
                clips_per_s=batch / min(wall), cpu_ms_per_clip=1000 * min(cpu) / batch, peak_mb=peak,
                threads=torch.get_num_threads(), repeats=len(wall), load=os.getloadavg()[0])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--batches', type=int, nargs='+', default=[1, 16])
    p.add_argument('--presets', nargs='+', default=['cfg1', 'small'])
    p.add_argument('--threads', type=int, default=0, help='torch threads (0 = torch default)')
    p.add_argument('--min-time', type=float, default=3.0, help='seconds of timed repeats per configuration')
    p.add_argument('--one', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.one:                                               # child process: one configuration, JSON to stdout
        preset, naive, batch = a.one.split(',')
        print(json.dumps(_run_one(preset, naive == '1', int(batch), a.threads, a.min_time))); return
    # fixed glibc thresholds: large blocks are always mmapped and returned on free, so RSS follows live memory
    env = {**os.environ, 'MALLOC_MMAP_THRESHOLD_': '131072', 'MALLOC_TRIM_THRESHOLD_': '131072'}
    rows = []
    for preset in a.presets:
        for naive in (0, 1):
            for b in a.batches:
                cmd = [sys.executable, __file__, '--one', f'{preset},{naive},{b}', '--threads', str(a.threads)]
                run = lambda extra, env: json.loads(subprocess.run(cmd + extra, capture_output=True, text=True, check=True,
                                                                   env=env).stdout.strip().splitlines()[-1])
                r = run(['--min-time', str(a.min_time)], os.environ)        # timing: default allocator
                r['peak_mb'] = run(['--min-time', '0'], env)['peak_mb']     # memory: RSS follows live memory
                rows.append(r)
                print(f'# {rows[-1]}', file=sys.stderr)
    print(f"2-s clips (40,000 samples at 20 kHz), float32, CPU, {rows[0]['threads']} torch thread(s), no autograd; "
          f"load average during the run ≈ {max(r['load'] for r in rows):.1f} on {os.cpu_count()} cores\n")
    print('| preset | output | method | batch | clips/s (wall) | CPU ms/clip | peak memory (MB) | speed-up (wall) |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        naive = next(q for q in rows if q['preset'] == r['preset'] and q['batch'] == r['batch'] and q['method'] == 'naive')
        print(f"| {r['preset']} | {r['shape'][0]}×{r['shape'][1]} | {r['method']} | {r['batch']} | {r['clips_per_s']:.1f} | "
              f"{r['cpu_ms_per_clip']:.1f} | {r['peak_mb']:.0f} | {r['clips_per_s'] / naive['clips_per_s']:.1f}× |")

if __name__ == '__main__': main()
