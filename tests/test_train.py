"Trainer integration: 2-process gloo DDP via the CLI, exact resume, the papermill entry point, the CLI help."
import json, shutil, subprocess, sys
from pathlib import Path
import pytest, torch

from conftest import ROOT
from topoaudio.trainer import TrainConfig, train, load_checkpoint, load_model, state_hash, _read_metrics, _VOLATILE

BIN = Path(sys.executable).parent
# a tiny but real run: cochresnet_small on a 3-word corpus, 0.5-s mixtures
TINY = dict(arch='cochresnet_small', n_words=3, n_speakers=2, clips_per_word=4, batch_size=4, lr=3e-3, warmup_steps=1,
            log_every=1, eval_every=2, data_kwargs={'duration': 0.5, 'corpus_kw': {'n_music': 3, 'n_textures': 3}})
TINY_ARGS = ['--arch', 'cochresnet_small', '--n_words', '3', '--n_speakers', '2', '--clips_per_word', '4', '--batch_size', '4',
             '--warmup_steps', '1', '--log_every', '1', '--eval_every', '2', '--data_kwargs', json.dumps(TINY['data_kwargs'])]

def test_cli_help():
    r = subprocess.run([BIN/'topoaudio-train', '--help'], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    for opt in ('--tau', '--arch', '--steps', '--batch_size', '--lr', '--optimizer', '--grad_accum', '--ckpt_every',
                '--out_dir', '--no-resume', '--task_weights', 'accelerate launch --multi_gpu'):
        assert opt in r.stdout, opt
    for args, msg in ((['--optimizer', 'adam'], "'adamw' or 'sgd'"), (['--log_every', '0'], 'log_every must be > 0'),
                      (['--task_weights', '[1, 2]'], 'task_weights must be a JSON object'),
                      (['--arch', 'nosuch'], "unknown arch 'nosuch'"), (['--preset', 'paper_resnet50'], 'needs data=DIR')):
        bad = subprocess.run([BIN/'topoaudio-train', *args], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2 and msg in bad.stderr, (args, bad.stderr[-1000:])
        assert 'espeak-ng corpus' not in bad.stderr   # refused before any corpus is built

def test_ddp_two_cpu_processes_hold_identical_weights(topo_env, tmp_path):
    out = tmp_path/'ddp'
    cmd = [BIN/'accelerate', 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', '--main_process_port', '29517', BIN/'topoaudio-train', *TINY_ARGS,
           '--steps', '3', '--tau', '5', '--out_dir', str(out)]
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=topo_env, timeout=150)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    s = json.loads((out/'summary.json').read_text())
    hashes = json.loads((out/'rank_hashes.json').read_text())
    assert s['world_size'] == 2 and len(hashes) == 2 and hashes[0] == hashes[1] and s['ranks_in_sync']
    m = load_model(out)
    assert state_hash(m) == hashes[0]
    assert m.train_config['tau'] == 5 and s['step'] == 3
    # it trained: the weights moved away from the seeded initialisation
    from topoaudio.backbones import create_model
    init = create_model(**m.config)
    assert state_hash(init) != hashes[0]
    recs = _read_metrics(out/'metrics.jsonl')
    assert [r['step'] for r in recs if r['split'] == 'train'] == [1, 2, 3]
    assert all(len([k for k in r if k.startswith('topo/')]) == 8 for r in recs if r['split'] == 'train')

def test_resume_is_exact(topo_env, tmp_path):
    cfg = lambda d, **kw: TrainConfig(**{**TINY, 'steps': 6, 'tau': 5.0, 'ckpt_every': 2, 'out_dir': str(tmp_path/d), **kw})
    s_full = train(cfg('full'))
    train(cfg('stop', stop_at=3))                          # stopped midway (checkpoint at 2 and at 3)
    assert load_checkpoint(tmp_path/'stop')['step'] == 3
    s_stop = train(cfg('stop'))
    def crash(step, rec):
        if step == 5: raise RuntimeError('injected crash at step 5')
    with pytest.raises(RuntimeError, match='injected crash'): train(cfg('crash'), on_step=crash)
    assert load_checkpoint(tmp_path/'crash')['step'] == 4
    s_crash = train(cfg('crash'))
    strip = lambda d: [{k: v for k, v in r.items() if k not in _VOLATILE} for r in _read_metrics(tmp_path/d/'metrics.jsonl')]
    full = strip('full')
    assert [r['step'] for r in full] == [1, 2, 2, 3, 4, 4, 5, 6, 6]
    for d, s in (('stop', s_stop), ('crash', s_crash)):
        assert strip(d) == full
        a, b = load_checkpoint(tmp_path/'full')['model'], load_checkpoint(tmp_path/d)['model']
        assert all(torch.equal(a[k], b[k]) for k in a)
        assert s['weights_sha256'] == s_full['weights_sha256']

def test_topo_gradient_is_exact_under_accumulation(topo_env, tmp_path):
    "τ > 0, task weights 0: one SGD step with grad_accum 1 (batch 4) or 4 (batches of 1) moves by 1.9·lr·τ·∇TopoLoss."
    from topoaudio.backbones import create_model
    import topoaudio.topoloss as TL
    kw = dict(TINY, steps=1, warmup_steps=0, optimizer='sgd', lr=0.1, lr_schedule='constant', weight_decay=0.0, grad_clip=0.0,
              tau=5.0, task_weights={'word': 0.0, 'speaker': 0.0, 'background': 0.0})
    train(TrainConfig(**{**kw, 'batch_size': 4, 'out_dir': str(tmp_path/'k1')}))
    train(TrainConfig(**{**kw, 'batch_size': 1, 'grad_accum': 4, 'out_dir': str(tmp_path/'k4')}))
    ck1, ck4 = load_checkpoint(tmp_path/'k1'), load_checkpoint(tmp_path/'k4')
    init = create_model(**ck1['model_config'])
    (5.0 * TL.TopoLoss(init.topo_layers, tau=1.0, factor=3.0)(init)).backward()
    for name in init.topo_layers:
        w0, g = init.get_parameter(name + '.weight').detach(), init.get_parameter(name + '.weight').grad
        expect = 1.9 * 0.1 * g                     # Nesterov momentum 0.9, first step
        assert expect.abs().max() > 1e-5
        for ck in (ck1, ck4):
            torch.testing.assert_close(w0 - ck['model'][name + '.weight'], expect, rtol=1e-4, atol=1e-7)   # (w0 - w1 rounds at ~1e-8)

def write_paper_manifests(d, sr=16000):
    "A tiny corpus in the paper's label ranges (words 1..793, speakers 1..432, AudioSet 0..516)."
    import numpy as np, pandas as pd, soundfile as sf
    d = Path(d); (d/'wav').mkdir(parents=True); g = np.random.default_rng(0); n = int(0.6 * sr)
    sp = [dict(path=f'wav/s{i}.wav', word=w, speaker=s, split=sp) for i, (w, s, sp) in
          enumerate([(1, 1, 'train'), (793, 432, 'train'), (400, 200, 'train'), (1, 432, 'train'), (793, 1, 'test')])]
    bg = [dict(path=f'wav/b{j}.wav', labels=l, split=sp) for j, (l, sp) in enumerate([('0;516', 'train'), ('300', 'train'), ('7', 'test')])]
    for r in sp + bg: sf.write(d/r['path'], (0.1 * g.standard_normal(n)).astype(np.float32), sr)
    pd.DataFrame(sp).to_csv(d/'speech.csv', index=False); pd.DataFrame(bg).to_csv(d/'background.csv', index=False)
    return d

@pytest.mark.parametrize('preset', ['paper_resnet50', 'paper_ast'])
def test_paper_presets_take_a_step_on_cpu(topo_env, tmp_path, preset):
    "The real architectures, heads and cfg1 front end; reduced: 0.5-s clips, batch 2, one step (τ = 50)."
    data = write_paper_manifests(tmp_path/'wsn')
    cfg = TrainConfig(preset=preset, data=str(data), tau=50.0, batch_size=2, steps=1, warmup_steps=0, optimizer='sgd',
                      data_kwargs={'duration': 0.5}, out_dir=str(tmp_path/'run'))
    s = train(cfg)
    assert s['step'] == 1 and s['n_classes'] == {'word': 794, 'speaker': 433, 'background': 517}
    m = load_model(tmp_path/'run')
    assert m.config['frontend'] == 'cfg1' and m.frontend(torch.zeros(40000)).shape == (211, 390)
    if preset == 'paper_resnet50':
        assert m.config['name'] == 'cochresnet50' and len(m.topo_layers) == 16
        assert sum(p.numel() for n, p in m.named_parameters() if not n.startswith('heads.')) > 23_000_000
    else:
        assert len(m.topo_layers) == 12 and m.blocks[0].mlp.fc1.weight.shape == (3072, 768)
        assert m.patch_embed.grid(211, 390) == (13, 24)          # 312 non-overlapping 16×16 patches
    w = json.loads((tmp_path/'run'/'config.json').read_text())['task_weights']
    assert w == {'word': 1.0, 'speaker': 0.25, 'background': 300.0}
    recs = _read_metrics(tmp_path/'run'/'metrics.jsonl')
    assert recs[0]['tau'] == 50.0 and recs[0]['loss_topo'] > 0

def test_papermill_05_train(topo_env, tmp_path):
    import papermill as pm
    out = tmp_path/'run'
    pm.execute_notebook(str(ROOT/'nbs'/'05_train.ipynb'), str(tmp_path/'out.ipynb'), kernel_name='python3', cwd=str(ROOT/'nbs'),
                        parameters=dict(tau=5.0, steps=3, batch_size=4, n_words=3, n_speakers=2, clips_per_word=4,
                                        out_dir=str(out), num_processes=1), progress_bar=False)
    files = set(p.name for p in out.iterdir())
    assert {'checkpoint.pt', 'config.json', 'metrics.jsonl', 'summary.json', 'curves.png', 'tonotopy.png'} <= files
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['train']['tau'] == 5.0 and cfg['train']['steps'] == 3 and cfg['n_classes']['word'] == 4
    s = json.loads((out/'summary.json').read_text())
    assert s['step'] == 3 and s['finished']
    # Moran's I of the tonotopy map for exactly the TopoLoss layers of the model the run's config builds
    from topoaudio.backbones import create_model
    layers = create_model(**cfg['model']).topo_layers
    assert len(layers) > 0 and sorted(s['tonotopy_moran']) == sorted(layers), (sorted(s['tonotopy_moran']), layers)
    assert all(-1.5 < v < 1.5 for v in s['tonotopy_moran'].values())   # finite Moran's I values (NaN fails too)
    nb = json.loads((tmp_path/'out.ipynb').read_text())
    text = ''.join(''.join(o.get('text', '')) for c in nb['cells'] for o in c.get('outputs', []))
    assert 'held-out word accuracy' in text

def test_gpu_check_skips_without_cuda(topo_env):
    env = dict(topo_env, CUDA_VISIBLE_DEVICES='')
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'gpu_check')], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and 'no CUDA device is visible' in r.stdout and 'skipping' in r.stdout, r.stdout + r.stderr

def test_gpu_check_cpu_dry_run(topo_env, tmp_path):
    "The GPU check's own code path (cochleagram agreement, TopoLoss overhead, a stopped + resumed paper_resnet50 launch) at a tiny size."
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'gpu_check'), '--cpu_dry_run', '--keep', str(tmp_path)],
                       capture_output=True, text=True, env=topo_env, timeout=600)
    assert r.returncode == 0 and 'all checks passed' in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    rep = json.loads((tmp_path/'gpu_check.json').read_text())
    assert rep['failures'] == [] and rep['training']['ranks_in_sync'] and rep['cochleagram']['shape'] == [211, 390]
    assert rep['topoloss']['topo_overhead_pct'] > 0
