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


# ---- run identity, locks and signal forwarding on a stand-in notebook (seconds, no training) -------------------------
import os, signal, socket, time
import nbformat as nbf
import psutil

def toy_notebook(path, sleep=0):
    "A stand-in for 05_train.ipynb: writes summary.json (tau, steps); with sleep > 0 it first starts a `sleep` child, writes [kernel PID, child PID] to pids.json and sleeps."
    nb = nbf.v4.new_notebook()
    p = nbf.v4.new_code_cell('tau, arch, seed, out_dir, steps = 0.0, "x", 0, ".", 1'); p.metadata['tags'] = ['parameters']
    body = 'import json, os, pathlib, subprocess, time\n'
    if sleep: body += (f'child = subprocess.Popen(["sleep", "{sleep}"])\n'
                       'pathlib.Path(out_dir, "pids.tmp").write_text(json.dumps([os.getpid(), child.pid]))\n'
                       'os.replace(pathlib.Path(out_dir, "pids.tmp"), pathlib.Path(out_dir, "pids.json"))\n'
                       f'time.sleep({sleep})\n')
    body += 'pathlib.Path(out_dir, "summary.json").write_text(json.dumps({"tau": tau, "steps": steps}))'
    nb.cells = [p, nbf.v4.new_code_cell(body)]
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'python3', 'language': 'python'}
    nbf.write(nb, path); return str(path)

def toy_cmd(out, nb, *extra, taus=('0', '50')):
    return [str(Path(sys.executable).parent/'topoaudio-sweep'), '--taus', *taus, '--out-dir', str(out), '--notebook', nb, '--no-analyse', *extra]

def toy_sweep(out, nb, env, *extra, taus=('0', '50')):
    return subprocess.run(toy_cmd(out, nb, *extra, taus=taus), env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)

def summary(out, tau): return json.loads((Path(out)/f'cochresnet_small_tau{tau}_seed0'/'summary.json').read_text())

def gone(pid):
    try: return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess: return True

def wait_for(path, proc, timeout=120):
    t0 = time.time()
    while not Path(path).exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.time() - t0 < timeout, f'{path} did not appear'
        time.sleep(0.2)
    return json.loads(Path(path).read_text())

def test_changed_params_are_refused(tmp_path, topo_env):
    "issue 16.2: a smoke test (steps=3) then the real sweep (steps=500) in the same folder must not report the smoke-test models."
    nb, out = toy_notebook(tmp_path/'toy.ipynb'), tmp_path/'sweep'
    assert toy_sweep(out, nb, topo_env, '--param', 'steps=3').returncode == 0
    p = toy_sweep(out, nb, topo_env, '--param', 'steps=500')
    assert p.returncode == 2, p.stderr[-2000:]
    assert f'{out}/cochresnet_small_tau50_seed0 was trained with steps=3, requested steps=500' in p.stderr
    assert '--rerun-changed' in p.stderr and '--force' in p.stderr
    assert summary(out, 50)['steps'] == 3                                 # nothing was started
    runs = json.loads((out/'sweep.json').read_text())['runs']
    assert {r['trained_with']['steps'] for r in runs} == {3}              # sweep.json says what the models are
    # --rerun-changed: only the changed runs are retrained (here tau 50; tau 100 is new)
    p = toy_sweep(out, nb, topo_env, '--param', 'steps=3', taus=('0', '50', '100'))
    t0 = json.loads((out/'cochresnet_small_tau0_seed0'/'status.json').read_text())['time']
    time.sleep(1.1)
    p = toy_sweep(out, nb, topo_env, '--param', 'steps=500', '--rerun-changed', taus=('50',))
    assert p.returncode == 0, p.stderr[-2000:]
    assert summary(out, 50)['steps'] == 500 and summary(out, 0)['steps'] == 3
    assert 'retraining changed runs' in p.stderr
    runs = json.loads((out/'sweep.json').read_text())['runs']
    assert [(r['name'], r['trained_with']['steps']) for r in runs] == [('cochresnet_small_tau50_seed0', 500)]
    # --force retrains every run of the plan, even unchanged ones
    p = toy_sweep(out, nb, topo_env, '--param', 'steps=3', '--force', taus=('0',))
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads((out/'cochresnet_small_tau0_seed0'/'status.json').read_text())['time'] != t0
    # unchanged and done: skipped (the status is not rewritten)
    t1 = json.loads((out/'cochresnet_small_tau0_seed0'/'status.json').read_text())['time']; time.sleep(1.1)
    assert toy_sweep(out, nb, topo_env, '--param', 'steps=3', taus=('0',)).returncode == 0
    assert json.loads((out/'cochresnet_small_tau0_seed0'/'status.json').read_text())['time'] == t1

def test_sigterm_stops_every_child(tmp_path, topo_env):
    "issue 16.4: killing topoaudio-sweep must not leave its papermill child, the kernel or the kernel's children running."
    nb, out = toy_notebook(tmp_path/'sleepy.ipynb', sleep=120), tmp_path/'sweep'
    proc = subprocess.Popen(toy_cmd(out, nb, taus=('5',)), env=topo_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    kernel, child = wait_for(out/'cochresnet_small_tau5_seed0'/'pids.json', proc)
    tree = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert kernel in tree or not gone(kernel)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    time.sleep(0.5)
    left = [p for p in tree + [kernel, child] if not gone(p)]
    assert not left, f'processes left running after SIGTERM: {left}'
    st = json.loads((out/'cochresnet_small_tau5_seed0'/'status.json').read_text())
    assert st['state'] == 'interrupted' and 'SIGTERM' in st['error'], st
    assert not (out/'.sweep.lock').exists() and not (out/'cochresnet_small_tau5_seed0'/'.sweep-run.lock').exists()

def test_one_sweep_per_folder(tmp_path, topo_env):
    "issue 16.4: a second sweep on the same folder is refused while the first runs; a dead sweep's lock is taken over."
    nb, out = toy_notebook(tmp_path/'sleepy.ipynb', sleep=120), tmp_path/'sweep'
    first = subprocess.Popen(toy_cmd(out, nb, taus=('5',)), env=topo_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=ROOT)
    try:
        wait_for(out/'cochresnet_small_tau5_seed0'/'pids.json', first)
        p = toy_sweep(out, toy_notebook(tmp_path/'toy.ipynb'), topo_env, taus=('5',))
        assert p.returncode == 2 and f'is in use by PID {first.pid}' in p.stderr, p.stderr[-2000:]
        # a sweep on another folder whose run folder is the same (a symlink) finds the run busy and leaves it alone
        (tmp_path/'other').mkdir(); (tmp_path/'other'/'cochresnet_small_tau5_seed0').symlink_to(out/'cochresnet_small_tau5_seed0')
        p = toy_sweep(tmp_path/'other', toy_notebook(tmp_path/'toy.ipynb'), topo_env, taus=('5',))
        assert p.returncode == 1 and 'BUSY cochresnet_small_tau5_seed0' in p.stdout, (p.stdout[-2000:], p.stderr[-2000:])
    finally:
        first.send_signal(signal.SIGTERM); first.communicate(timeout=60)
    # the lock file of a sweep killed with SIGKILL is reported as stale and taken over; its temporary files are removed
    (out/'.sweep.lock').write_text(json.dumps(dict(pid=2**22 + 7, host=socket.gethostname(), time='yesterday')))
    (out/'sweep.json.tmp').write_text('{"half": ')
    p = toy_sweep(out, toy_notebook(tmp_path/'toy.ipynb'), topo_env, taus=('5',))
    assert p.returncode == 0, p.stderr[-2000:]
    assert 'stale lock of PID 4194311' in p.stderr and not (out/'sweep.json.tmp').exists()
    assert summary(out, 5)['tau'] == 5.0                                   # the interrupted run was resumed and finished

def test_orphan_of_a_killed_sweep_is_not_trained_twice(tmp_path, topo_env):
    "issue 16.4: after kill -9 of a sweep (nothing can forward that), a rerun must not train the same folder concurrently."
    nb, out = toy_notebook(tmp_path/'sleepy.ipynb', sleep=120), tmp_path/'sweep'
    first = subprocess.Popen(toy_cmd(out, nb, taus=('5',)), env=topo_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=ROOT)
    kernel, child = wait_for(out/'cochresnet_small_tau5_seed0'/'pids.json', first)
    orphans = [c.pid for c in psutil.Process(first.pid).children(recursive=True)]
    first.kill(); first.communicate(timeout=30)
    try:
        p = toy_sweep(out, toy_notebook(tmp_path/'toy.ipynb'), topo_env, taus=('5',))
        assert p.returncode == 1, p.stderr[-2000:]
        assert 'BUSY cochresnet_small_tau5_seed0' in p.stdout and 'left by a sweep that was killed' in p.stdout, p.stdout[-2000:]
        assert not (out/'cochresnet_small_tau5_seed0'/'summary.json').exists()
    finally:
        from topoaudio.sweep import kill_tree
        kill_tree(orphans + [kernel, child], grace=2)
    assert all(gone(q) for q in orphans + [kernel, child])
