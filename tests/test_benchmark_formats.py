"""Benchmark loaders and protocols (topoaudio.benchmarks) on tiny datasets written in the official layouts.

The real ESC-50 / NSynth / Speech Commands archives are not needed: every test writes its own fixture in a temporary
directory, and the feature cache is redirected there too.
"""
import json, tarfile, warnings, zipfile

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from topoaudio import benchmarks as B


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv('TOPOAUDIO_CACHE', str(tmp_path/'cache'))


# ---------------------------------------------------------------- ESC-50
def test_esc50_end_to_end_perfect_and_cached(tmp_path):
    root = B.make_esc50_fixture(tmp_path/'ESC-50-master', categories=('dog', 'rain', 'siren', 'hand_saw'),
                                clips_per_fold=1)
    m = B.BandEnergy()
    r = B.run_esc50(m, root, progress=False)
    assert r['accuracy'] == 1.0
    assert r['per_fold'] == {f: 1.0 for f in range(1, 6)}
    assert r['n_clips'] == 20 and r['n_crops'] == 5 and r['n_features'] == 16
    assert set(r['C'].values()) <= set(B.C_GRID)
    calls = m.calls
    assert calls == -(-100 // 32)                          # 20 clips x 5 crops in batches of 32
    r2 = B.run_esc50(m, root, progress=False)              # cache hit: the model is not run again
    assert m.calls == calls and r2['per_fold'] == r['per_fold']
    assert len(list((tmp_path/'cache'/'benchmarks').glob('esc50_*.npy'))) == 1
    B.run_esc50(B.BandEnergy(n_bands=12), root, folds=[2], progress=False)   # another model: another entry
    B.run_esc50(m, root, seed=3, folds=[2], progress=False)                   # another crop seed: another entry
    assert m.calls == 2 * calls
    assert len(list((tmp_path/'cache'/'benchmarks').glob('esc50_*.npy'))) == 3


def test_esc50_crops_are_seeded_2s_segments_at_rms_01(tmp_path):
    root = B.make_esc50_fixture(tmp_path/'e', categories=('cow',), clips_per_fold=1)
    tab = B.esc50_table(root)
    waves = list(B._esc50_waves(tab.iloc[:1], seed=0, n_crops=5))
    assert len(waves) == 5 and all(w.shape == (40000,) and w.dtype == np.float32 for w in waves)
    np.testing.assert_allclose([np.sqrt(np.mean(w.astype(np.float64) ** 2)) for w in waves], 0.1, rtol=1e-4)
    x = B.read_wave(tab.path[0], 44100)                    # the crops are the resampled clip at the seeded offsets
    assert x.shape == (100000,)
    starts = B.crop_starts(len(x), tab.filename[0], 0, 5)
    for w, s in zip(waves, starts):
        seg = x[s:s + 40000].astype(np.float64); seg = seg - seg.mean()
        np.testing.assert_allclose(w, seg * 0.1 / np.sqrt(np.mean(seg ** 2)), atol=1e-5)
    assert len(set(starts)) == 5


def test_majority_vote_and_ties():
    pred = np.array([1, 1, 2, 0, 2, 2, 5, 6])
    clip = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    assert B.majority_vote(pred, clip) == {0: 1, 1: 2, 2: 5}
    scores = np.zeros((8, 7)); scores[7, 6] = 3.0         # clip 2 is a 1-1 tie: class 6 has the higher score
    assert B.majority_vote(pred, clip, scores, np.arange(7))[2] == 6


def test_esc50_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='meta/esc50.csv'):
        B.esc50_table(tmp_path)
    root = B.make_esc50_fixture(tmp_path/'e', clips_per_fold=1)
    csv = root/'meta'/'esc50.csv'; good = pd.read_csv(csv)
    good.drop(columns='take').to_csv(csv, index=False)
    with pytest.raises(ValueError, match='columns'):
        B.esc50_table(root)
    for col, val in (('category', 'unicorn'), ('target', 50), ('target', 7)):   # 7 is 'insects', not 'dog'
        bad = good.copy(); bad.loc[0, col] = val; bad.to_csv(csv, index=False)
        with pytest.raises(ValueError, match='unknown label'):
            B.esc50_table(root)
    bad = good.copy(); bad.loc[0, 'fold'] = 6; bad.to_csv(csv, index=False)
    with pytest.raises(ValueError, match='folds must be 1..5'):
        B.esc50_table(root)
    good.to_csv(csv, index=False)
    (root/'audio'/good.filename[0]).unlink()
    with pytest.raises(FileNotFoundError, match='listed but missing'):
        B.esc50_table(root)
    sf.write(root/'audio'/good.filename[0], np.zeros(48000 * 5), 48000)
    with pytest.raises(ValueError, match='sample rate 48000'):
        B.esc50_table(root)
    sf.write(root/'audio'/good.filename[0], np.zeros(44100 * 3), 44100)
    with pytest.raises(ValueError, match='lasts 3.00 s'):
        B.esc50_table(root)


# ---------------------------------------------------------------- NSynth
def test_nsynth_end_to_end_uses_first_2s(tmp_path):
    root = B.make_nsynth_fixture(tmp_path/'ns', families=('bass', 'keyboard', 'vocal'))
    # overwrite the last 2 s of every note with the *same* tone for all families: only the first 2 s carry the label
    for split in ('valid', 'test'):
        for p in (root/f'nsynth-{split}'/'audio').glob('*.wav'):
            x, sr = sf.read(p)
            x[32000:] = 0.4 * np.sin(2 * np.pi * 3000 * np.arange(32000) / 16000)
            sf.write(p, x, sr, subtype='PCM_16')
    m = B.BandEnergy()
    r = B.run_nsynth(m, root, progress=False)
    assert r['accuracy'] == 1.0 and r['per_split'] == {'test': 1.0}
    assert r['per_class'] == {'bass': 1.0, 'keyboard': 1.0, 'vocal': 1.0}
    assert (r['n_train'], r['n_test'], r['train_split'], r['test_split']) == (12, 6, 'valid', 'test')
    calls = m.calls
    assert B.run_nsynth(m, root, progress=False)['accuracy'] == 1.0 and m.calls == calls
    # the input really is the first 2 s: compare with prep_wave of the first 32,000 samples
    from topoaudio.cochleagram import prep_wave
    p = sorted((root/'nsynth-test'/'audio').glob('*.wav'))[0]
    x, _ = sf.read(p)
    np.testing.assert_allclose(B._first_2s(p), prep_wave(x[:32000], 16000), atol=1e-6)


def test_nsynth_layout_errors(tmp_path):
    root = B.make_nsynth_fixture(tmp_path/'ns', notes={'valid': 2})
    with pytest.raises(FileNotFoundError, match='nsynth-test/examples.json'):
        B.nsynth_table(root, 'test')
    with pytest.raises(ValueError, match='split must be'):
        B.nsynth_table(root, 'validation')
    js = root/'nsynth-valid'/'examples.json'; ex = json.loads(js.read_text()); k0 = next(iter(ex))
    for fam, fs in ((11, 'bass'), (0, 'flute'), (9, 'synth lead')):
        bad = json.loads(js.read_text()); bad[k0].update(instrument_family=fam, instrument_family_str=fs)
        js.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match='unknown label'):
            B.nsynth_table(root, 'valid')
    js.write_text(json.dumps(ex))
    sf.write(root/'nsynth-valid'/'audio'/f'{k0}.wav', np.zeros(44100 * 4), 44100)
    with pytest.raises(ValueError, match='sample rate 44100'):
        B.nsynth_table(root, 'valid')


# ---------------------------------------------------------------- Speech Commands
def test_speech_commands_end_to_end_and_padding(tmp_path):
    root = B.make_speech_commands_fixture(tmp_path/'sc', words=('zero', 'one', 'two', 'three'))
    r = B.run_speech_commands(B.BandEnergy(), root, progress=False)
    assert r['accuracy'] == 1.0 and r['per_split'] == {'testing': 1.0}
    assert set(r['per_class']) == {'zero', 'one', 'two', 'three'}
    assert (r['n_train'], r['n_test']) == (16, 8)
    val = B.speech_commands_table(root, 'validation')
    assert set(val.word) == {'zero', 'one', 'two', 'three'}
    assert (val.label == [B.SPEECH_COMMANDS_WORDS.index(w) for w in val.word]).all()
    assert len(B.speech_commands_table(root, 'training')) == 4   # the files in neither list
    # a 0.6-s clip: centred in 2 s, silent (a constant after demeaning) in the first and last 0.5 s
    p = root/'one'/'short_nohash_0.wav'
    sf.write(p, 0.3 * np.sin(2 * np.pi * 500 * np.arange(9600) / 16000), 16000)
    w = B._pad_2s(p)
    assert w.shape == (40000,)
    np.testing.assert_allclose(np.sqrt(np.mean(w.astype(np.float64) ** 2)), 0.1, rtol=1e-4)
    edge = np.r_[w[200:9800], w[30200:39800]]               # away from the resampler's transition
    assert edge.std() < 1e-4 and w[12000:20000].std() > 0.05


def test_speech_commands_layout_errors(tmp_path):
    root = B.make_speech_commands_fixture(tmp_path/'sc', n={'validation': 2, 'testing': 1})
    (root/'testing_list.txt').rename(root/'test_list.txt')
    with pytest.raises(FileNotFoundError, match='testing_list.txt'):
        B.speech_commands_table(root)
    (root/'test_list.txt').rename(root/'testing_list.txt')
    lst = (root/'validation_list.txt').read_text()
    (root/'validation_list.txt').write_text(lst + 'maybe/abc_nohash_0.wav\n')
    with pytest.raises(ValueError, match="unknown label"):
        B.speech_commands_table(root)
    (root/'validation_list.txt').write_text(lst)
    (root/'Yes').mkdir()
    with pytest.raises(ValueError, match='unknown label folder'):
        B.speech_commands_table(root)
    (root/'Yes').rmdir()
    f = root/lst.split()[0]
    sf.write(f, np.zeros(8000), 8000)
    with pytest.raises(ValueError, match='sample rate 8000'):
        B.speech_commands_table(root)


# ---------------------------------------------------------------- features, fingerprints, results, downloads
def test_model_fingerprint(tmp_path):
    a, b = B.BandEnergy(), B.BandEnergy()
    assert B.model_fingerprint(a) == B.model_fingerprint(b)
    b.edges.mul_(1.01)
    assert B.model_fingerprint(a) != B.model_fingerprint(b)
    bf = torch.nn.Linear(3, 2).to(torch.bfloat16); bf.config = {}
    assert len(B.model_fingerprint(bf)) == 16                # dtypes numpy cannot hold are hashed too
    ck = tmp_path/'model.pt'; ck.write_bytes(b'1')
    f1 = B.model_fingerprint(ck)
    import os; st = ck.stat(); os.utime(ck, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert B.model_fingerprint(ck) != f1
    assert B.model_fingerprint(tmp_path) != f1               # a run directory: its checkpoint files
    with pytest.raises(FileNotFoundError):
        B.model_fingerprint(tmp_path/'empty_dir_does_not_exist')


def test_embed_contract():
    m = B.BandEnergy()
    waves = [np.random.default_rng(i).standard_normal(40000).astype(np.float32) for i in range(5)]
    X = B.embed(m, iter(waves), n=5, batch_size=2, progress=False)
    assert X.shape == (5, 16) and m.calls == 3 and m.training      # 3 batches; train mode restored
    with torch.no_grad():
        np.testing.assert_allclose(X, m.features(torch.from_numpy(np.stack(waves))).numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(TypeError, match='features'):
        B.embed(torch.nn.Linear(2, 2), iter(waves))


def test_results_table():
    t = B.results_table([dict(model='base', tau=0, esc50=0.8171, nsynth={'accuracy': 0.98}, speech_commands=0.5,
                              smoothness=0.3412),
                         dict(model='topo', tau=50, esc50=0.8, smoothness=1.0)])
    assert list(t.columns) == ['Model', 'τ', 'ESC-50', 'NSynth', 'SpeechCmd', 'Smoothness']
    assert t.iloc[0, 2:].tolist() == [81.71, 98.0, 50.0, 0.34]
    assert pd.isna(t.loc[1, 'NSynth'])
    with pytest.raises(ValueError, match='fraction'):
        B.results_table([dict(model='x', nsynth=98.3)])


def test_nsynth_scores_the_test_split_not_the_training_split(tmp_path):
    """Known answer 0: the test split's labels are rotated, so a read-out trained on `valid` is wrong on every test note
    (a pipeline that fitted or scored on the wrong split would not get 0)."""
    fams = ('bass', 'keyboard', 'vocal')
    root = B.make_nsynth_fixture(tmp_path/'ns', families=fams)
    js = root/'nsynth-test'/'examples.json'; ex = json.loads(js.read_text())
    for v in ex.values():
        f = fams[(fams.index(v['instrument_family_str']) + 1) % 3]
        v['instrument_family_str'], v['instrument_family'] = f, B.NSYNTH_FAMILIES.index(f)
    js.write_text(json.dumps(ex))
    r = B.run_nsynth(B.BandEnergy(), root, progress=False, cache=False)
    assert r['accuracy'] == 0.0 and r['n_test'] == 6


def _notes_table(title_start):
    "Rows of the first markdown table after the line starting with `title_start` in ../shared/NOTES.md (skip if absent)."
    import os
    from pathlib import Path
    from conftest import ROOT
    cands = [Path(os.environ['TOPOAUDIO_DATA']).parent/'NOTES.md'] if os.environ.get('TOPOAUDIO_DATA') else []
    p = next((c for c in cands + [ROOT.parent/'shared'/'NOTES.md'] if c.exists()), None)
    if p is None: pytest.skip('NOTES.md (beside the data mirror) is not available')
    lines = p.read_text().splitlines()
    i = next(k for k, l in enumerate(lines) if l.startswith(title_start))
    rows = []
    for l in lines[i + 1:]:
        if rows and not l.startswith('|'): break
        if l.startswith('|') and not set(l) <= set('|-: '): rows.append([c.strip() for c in l.strip('|').split('|')])
    return rows[1:]   # without the header


def test_paper_table1_equals_notes():
    """Anchor equality: PAPER_TABLE1 is the paper's Table 1 exactly as transcribed in NOTES.md (names, τ labels, values)."""
    model, want = None, []
    for m, tau, esc, ns, sc, sm in _notes_table('Table 1 (accuracy %'):
        model = m or model
        want.append((model, int(tau) if tau.isdigit() else tau, float(esc), float(ns), float(sc), float(sm)))
    got = [(r['model'], r['tau'], round(100 * r['esc50'], 2), round(100 * r['nsynth'], 2), round(100 * r['speech_commands'], 2),
            r['smoothness']) for r in B.PAPER_TABLE1]
    assert len(want) == 13 and got == want


def test_download_verifies_digest_and_layout(tmp_path):
    src = B.make_esc50_fixture(tmp_path/'src'/'ESC-50-master', clips_per_fold=1)
    arc = tmp_path/'master.zip'
    with zipfile.ZipFile(arc, 'w') as z:
        for p in src.rglob('*'): z.write(p, p.relative_to(tmp_path/'src'))
    # ESC-50's GitHub archive is not versioned: a digest mismatch only warns, the layout check decides
    a = B.Archive(arc.as_uri(), 'md5:' + '0' * 32, 'ESC-50-master', strict=False)
    with pytest.warns(UserWarning, match='checking the unpacked layout'):
        root = B.download_benchmark('esc50', tmp_path/'out', [a])
    assert len(B.esc50_table(root)) == 15
    # NSynth: strict digests
    ns = B.make_nsynth_fixture(tmp_path/'nsrc')
    archives = []
    for s in ('valid', 'test'):
        with tarfile.open(tmp_path/f'{s}.tar.gz', 'w:gz') as t: t.add(ns/f'nsynth-{s}', arcname=f'nsynth-{s}')
        archives.append(B.Archive((tmp_path/f'{s}.tar.gz').as_uri(), 'md5:' + B._digest(tmp_path/f'{s}.tar.gz', 'md5'),
                                  f'nsynth-{s}'))
    assert B.download_benchmark('nsynth', tmp_path/'ns_out', archives) == tmp_path/'ns_out'
    assert len(B.nsynth_table(tmp_path/'ns_out', 'test')) == 6
    bad = [B.Archive(archives[0].url, 'md5:' + '1' * 32, 'nsynth-valid')]
    with pytest.raises(ValueError, match='differs from the published'):
        B.download_benchmark('nsynth', tmp_path/'ns_bad', bad)
    assert not (tmp_path/'ns_bad'/'nsynth-valid').exists()
    # archives that try to write outside the destination are refused
    evil = tmp_path/'evil.tar'
    with tarfile.open(evil, 'w') as t: t.add(arc, arcname='../escape.zip')
    with pytest.raises(ValueError, match='unsafe member'):
        B._unpack(evil, tmp_path/'x')
    assert not (tmp_path/'escape.zip').exists()


def test_official_constants():
    assert len(B.ESC50_CATEGORIES) == len(set(B.ESC50_CATEGORIES)) == 50
    assert B.ESC50_CATEGORIES[0] == 'dog' and B.ESC50_CATEGORIES[49] == 'hand_saw'
    assert len(B.NSYNTH_FAMILIES) == 11 and B.NSYNTH_FAMILIES[9] == 'synth_lead'
    assert len(B.SPEECH_COMMANDS_WORDS) == 35 and B.SPEECH_COMMANDS_WORDS == sorted(B.SPEECH_COMMANDS_WORDS)
    assert {'backward', 'follow', 'forward', 'learn', 'visual'} <= set(B.SPEECH_COMMANDS_WORDS)   # new in v0.02
    assert set(B.ARCHIVES) == {'esc50', 'nsynth', 'speech_commands'}
    assert B.C_GRID == (0.01, 0.1, 1.0, 10.0, 100.0)


def test_real_backbone_and_trainer_checkpoint(tmp_path, monkeypatch):
    """A topoaudio backbone, given as a module or as a trainer checkpoint (run directory), gives identical features."""
    from topoaudio.backbones import create_model
    from topoaudio import trainer
    net = create_model('cochresnet_small', seed=0)
    root = B.make_speech_commands_fixture(tmp_path/'sc', n={'validation': 3, 'testing': 2})
    r = B.run_speech_commands(net, root, progress=False)
    assert r['accuracy'] == 1.0 and r['n_features'] == 256
    run = tmp_path/'run'; run.mkdir()
    torch.save(dict(format='topoaudio-checkpoint-1', config={}, model_config=net.config, step=0,
                    model=net.state_dict()), run/trainer.CKPT_NAME)
    loads = []
    real = B._load_model
    monkeypatch.setattr(B, '_load_model', lambda m: loads.append(m) or real(m))
    rc = B.run_speech_commands(run, root, progress=False)
    assert len(loads) == 2 and rc['per_class'] == r['per_class'] and rc['C'] == r['C']
    key = lambda d: sorted((d/'cache'/'benchmarks').glob('speech_commands_*.npy'))
    X = {p.name: np.load(p) for p in key(tmp_path)}
    assert len(X) == 4                                       # (module, checkpoint) x (train, test)
    a, b = [v for v in X.values() if len(v) == 9]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)   # same weights → same features
    B.run_speech_commands(run, root, progress=False)
    assert len(loads) == 2                                   # warm cache: the checkpoint is not even loaded
