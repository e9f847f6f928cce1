"End to end: a tiny τ sweep through the real 05_train.ipynb (papermill), its analyses and report; resume and failure isolation."
import json, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ['--param', 'steps=3', '--param', 'batch_size=8', '--param', 'n_words=4', '--param', 'n_speakers=3',
        '--param', 'clips_per_word=6', '--param', 'num_processes=1', '--param', 'report=false', '--n-starts', '2']

def sweep(out, env, *extra):
    cmd = [str(Path(sys.executable).parent/'topoaudio-sweep'), '--taus', '0', '50', '--out-dir', str(out), *TINY, *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=900)

def status(out): return {p.parent.name: json.loads(p.read_text()) for p in Path(out).glob('*/status.json')}

@pytest.fixture(scope='module')
def tiny_sweep(topo_env, tmp_path_factory):
    out = tmp_path_factory.mktemp('sweep')
    # one architecture that does not exist: its runs must fail without stopping the others
    p = sweep(out, topo_env, '--archs', 'cochresnet_small', 'no_such_arch')
    return out, p, status(out)

def test_failures_are_isolated(tiny_sweep):
    out, p, st = tiny_sweep
    assert p.returncode == 1, p.stderr[-3000:]                     # the CLI reports the failures ...
    assert {k: v['state'] for k, v in st.items()} == {
        'cochresnet_small_tau0_seed0': 'done', 'cochresnet_small_tau50_seed0': 'done',
        'no_such_arch_tau0_seed0': 'failed', 'no_such_arch_tau50_seed0': 'failed'}
    assert 'no_such_arch' in st['no_such_arch_tau0_seed0']['error']

def test_runs_are_trained_analysed_and_reported(tiny_sweep):
    out, p, st = tiny_sweep
    for t in ('0', '50'):
        run = out/f'cochresnet_small_tau{t}_seed0'
        assert {'train.ipynb', 'checkpoint.pt', 'summary.json', 'report.json', 'report.md'} <= {f.name for f in run.iterdir()}
        assert json.loads((run/'summary.json').read_text())['tau'] == float(t)
        rep = json.loads((run/'report.json').read_text())              # the battery's Report of the run
        assert rep['format'] == 'topoaudio-report-1' and rep['meta']['model'] == run.name
        st_ = {(r['control'], r['score']['benchmark']): r['score']['status'] for r in rep['records']}
        assert st_[('model', 'table2.moran.tonotopy')] == 'ok' and st_[('permuted', 'fig5.match.music')] == 'ok'
        assert st_[('model', 'table1.esc50')] == 'skipped'               # no dataset here: skipped, with the reason
    t2 = (out/'table2.csv').read_text().splitlines()
    assert t2[0].split(',')[:2] == ['arch', 'tau'] and {'tonotopy', 'am', 'speech', 'music'} <= set(t2[0].split(','))
    assert any(l.startswith('NH2015 brain') for l in t2)
    assert any('Topographic Avg.' in l for l in (out/'table1.csv').read_text().splitlines())
    assert (out/'fig5_summary.csv').exists()
    assert (out/'report.md').exists() and all((out/f'sweep_{n}.png').exists() for n in ('table2_moran', 'fig34_maps', 'fig6_angles'))
    assert not (out/'sweep_fig2b_voxels.png').exists()                  # no voxel archive here: no Fig. 2B

def test_rerun_skips_done_and_retries_failed(tiny_sweep, topo_env):
    out, _, st = tiny_sweep
    p = sweep(out, topo_env, '--archs', 'cochresnet_small', 'no_such_arch')
    st2 = status(out)
    for k in ('cochresnet_small_tau0_seed0', 'cochresnet_small_tau50_seed0'):
        assert st2[k]['time'] == st[k]['time']                        # finished runs are not executed again
    assert st2['no_such_arch_tau0_seed0']['state'] == 'failed'        # failures are retried (and fail again)
    assert p.returncode == 1
