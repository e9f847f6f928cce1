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
    bad = subprocess.run([BIN/'topoaudio-train', '--optimizer', 'adam'], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "'adamw' or 'sgd'" in bad.stderr

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
