"Crash safety of the trainer (issue 16): resume identity, divergence, run locks, damaged logs and checkpoints. Tiny and fast."
import hashlib, json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest, soundfile as sf, torch

from topoaudio.trainer import TrainConfig, train, load_checkpoint, RunLock, CKPT_NAME, _read_metrics, _VOLATILE

BIN = Path(sys.executable).parent
ARGS = ['--arch', 'cochresnet_small', '--tau', '5', '--batch_size', '2', '--warmup_steps', '1', '--log_every', '1', '--eval_every', '2',
        '--data_kwargs', '{"duration": 0.5}']

def write_manifests(d, words=(1, 2, 3, 1, 2, 3, 1, 2), speakers=(1, 2, 1, 2, 1, 2, 2, 1), bg=('0', '1', '0;1', '1'), sr=16000):
    "A tiny bring-your-own corpus: speech.csv + background.csv over short synthetic wavs."
    d = Path(d); (d/'wav').mkdir(parents=True, exist_ok=True); g = np.random.default_rng(0); t = np.arange(int(0.6 * sr)) / sr
    sp = []
    for i, (w, s) in enumerate(zip(words, speakers)):
        x = 0.1 * np.sin(2 * np.pi * (200 + 97 * (w % 50)) * t * (1 + 0.1 * (s % 7))) + 0.01 * g.standard_normal(len(t))
        sf.write(d/'wav'/f's{i}.wav', x.astype(np.float32), sr); sp.append(dict(path=f'wav/s{i}.wav', word=w, speaker=s))
    bgr = []
    for j, l in enumerate(bg):
        sf.write(d/'wav'/f'b{j}.wav', (0.1 * g.standard_normal(2 * len(t))).astype(np.float32), sr); bgr.append(dict(path=f'wav/b{j}.wav', labels=l))
    pd.DataFrame(sp).to_csv(d/'speech.csv', index=False); pd.DataFrame(bgr).to_csv(d/'background.csv', index=False)
    return d

def run_cli(env, *args, timeout=180):
    return subprocess.run([str(BIN/'topoaudio-train'), *ARGS, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout)

def sha(p): return hashlib.sha256(Path(p).read_bytes()).hexdigest()

def cfg(data, out, **kw):
    return TrainConfig(**{**dict(arch='cochresnet_small', tau=5.0, data=str(data), batch_size=2, warmup_steps=1, log_every=1, eval_every=2,
                                 data_kwargs={'duration': 0.5}, steps=4, ckpt_every=2, out_dir=str(out)), **kw})

def test_resume_on_changed_data_is_refused(topo_env, tmp_path):
    data = write_manifests(tmp_path/'data'); out = tmp_path/'run'
    train(cfg(data, out, stop_at=2))
    ck = sha(out/CKPT_NAME)
    bg = pd.read_csv(data/'background.csv'); bg.iloc[:3].to_csv(data/'background.csv', index=False)   # a background went missing
    r = run_cli(topo_env, '--data', data, '--steps', 4, '--out_dir', out)
    assert r.returncode == 1 and 'resume refused: data recipe differs: backgrounds 4 → 3' in r.stderr, r.stderr[-2000:]
    bg.to_csv(data/'background.csv', index=False)                                                       # restored, but one file changed
    x, sr = sf.read(data/'wav'/'b2.wav'); sf.write(data/'wav'/'b2.wav', x[::-1].copy(), sr)
    with pytest.raises(ValueError, match='background sha256'): train(cfg(data, out))
    assert sha(out/CKPT_NAME) == ck and json.loads((out/'summary.json').read_text())['step'] == 2

def test_non_finite_lr_fails_loudly_and_keeps_the_checkpoint(topo_env, tmp_path):
    data = write_manifests(tmp_path/'data'); out = tmp_path/'run'
    train(cfg(data, out, stop_at=2))
    ck = sha(out/CKPT_NAME)
    r = run_cli(topo_env, '--data', data, '--steps', 4, '--lr', 'inf', '--out_dir', out)
    assert r.returncode == 2 and 'lr must be finite' in r.stderr, r.stderr[-2000:]
    for kw, msg in ((dict(tau=float('inf')), 'tau must be finite'), (dict(weight_decay=float('nan')), 'weight_decay must be finite')):
        with pytest.raises(ValueError, match=msg): cfg(data, out, **kw)
    assert sha(out/CKPT_NAME) == ck
    # a finite but absurd lr diverges mid-run: exit 1, the last good checkpoint kept, summary says why (strict JSON)
    out2 = tmp_path/'diverge'
    r = run_cli(topo_env, '--data', data, '--steps', 6, '--lr', '1e30', '--ckpt_every', 1, '--out_dir', out2)
    assert r.returncode == 1 and 'training diverged at step' in r.stderr, r.stderr[-2000:]
    s = json.loads((out2/'summary.json').read_text(), parse_constant=lambda c: pytest.fail(f'bare {c} in summary.json'))
    ck = load_checkpoint(out2)
    assert s['finished'] is False and 'diverged' in s['reason'] and s['checkpoint_step'] == ck['step'] < 6
    assert all(torch.isfinite(v).all() for v in ck['model'].values() if v.is_floating_point())
    for line in (out2/'metrics.jsonl').read_text().splitlines():
        json.loads(line, parse_constant=lambda c: pytest.fail(f'bare {c} in metrics.jsonl'))

def test_concurrent_trainer_is_refused_and_stale_lock_taken_over(topo_env, tmp_path):
    data = write_manifests(tmp_path/'data'); out = tmp_path/'run'
    with RunLock(out):                                                     # a live holder (this process)
        r = run_cli(topo_env, '--data', data, '--steps', 2, '--out_dir', out)
    assert r.returncode == 1 and 'is in use by another trainer' in r.stderr and f'"pid": {os.getpid()}' in r.stderr, r.stderr[-2000:]
    assert not (out/CKPT_NAME).exists()
    # a real first trainer, killed with SIGKILL while it holds the folder: the second is refused while it lives,
    # and the third takes the stale lock over
    p = subprocess.Popen([str(BIN/'topoaudio-train'), *ARGS, '--data', str(data), '--steps', '100000', '--out_dir', str(out)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=topo_env)
    try:
        for _ in range(600):
            if (out/'.lock').exists() and str(p.pid) in (out/'.lock').read_text(): break
            time.sleep(0.1)
        else: pytest.fail('the first trainer never took the lock')
        r = run_cli(topo_env, '--data', data, '--steps', 100000, '--out_dir', out)
        assert r.returncode == 1 and f'"pid": {p.pid}' in r.stderr, r.stderr[-2000:]
    finally:
        p.send_signal(signal.SIGKILL); p.wait()
    r = run_cli(topo_env, '--data', data, '--steps', 2, '--no-resume', '--out_dir', out)
    assert r.returncode == 0 and f'stale lock of pid {p.pid}' in r.stderr, r.stderr[-2000:]

def test_truncated_metrics_line_is_recovered(topo_env, tmp_path):
    data = write_manifests(tmp_path/'data')
    s_full = train(cfg(data, tmp_path/'full'))
    train(cfg(data, tmp_path/'cut', stop_at=2))
    with open(tmp_path/'cut'/'metrics.jsonl', 'a') as f: f.write('{"step": 3, "split": "tr')          # killed mid-write
    (tmp_path/'cut'/'checkpoint.pt.k1ll3d.tmp').write_bytes(b'half a checkpoint')                     # killed mid-save
    with pytest.warns(UserWarning, match='metrics.jsonl: dropped its half-written last line'):
        s = train(cfg(data, tmp_path/'cut'))
    strip = lambda d: json.dumps([{k: v for k, v in r.items() if k not in _VOLATILE} for r in _read_metrics(tmp_path/d/'metrics.jsonl')])
    assert strip('cut') == strip('full')   # (as JSON text: NaN == NaN there) and s['weights_sha256'] == s_full['weights_sha256']
    assert not list((tmp_path/'cut').glob('*.tmp'))

def test_truncated_checkpoint_is_refused_naming_the_file(topo_env, tmp_path):
    data = write_manifests(tmp_path/'data'); out = tmp_path/'run'
    train(cfg(data, out, stop_at=2))
    b = (out/CKPT_NAME).read_bytes(); (out/CKPT_NAME).write_bytes(b[:len(b) // 3])
    with pytest.raises(ValueError, match=f'checkpoint {out/CKPT_NAME} cannot be read — truncated'): train(cfg(data, out))
    s = train(cfg(data, out, resume=False))                                                          # the way out it names
    assert s['finished'] and load_checkpoint(out)['step'] == 4
