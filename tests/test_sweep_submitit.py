"""The submitit path of topoaudio-sweep (issue 14.6): a two-τ sweep end to end through submitit's LocalExecutor (the same
code as a Slurm array), and the Slurm submission itself (one array task per run, a dependent analysis job) against a
stand-in `sbatch`."""
import json, os, subprocess, sys, time
from pathlib import Path
import pytest
from test_sweep import TINY, toy_notebook, status

ROOT = Path(__file__).resolve().parents[1]
EXE = str(Path(sys.executable).parent/'topoaudio-sweep')

def test_local_executor_end_to_end(tmp_path, topo_env):
    out = tmp_path/'sweep'
    cmd = [EXE, '--executor', 'local', '--taus', '0', '50', '--out-dir', str(out), '--cpus-per-run', '1', *TINY]
    p = subprocess.run(cmd, env=topo_env, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    st = status(out)
    assert {k: v['state'] for k, v in st.items()} == {'cochresnet_small_tau0_seed0': 'done', 'cochresnet_small_tau50_seed0': 'done'}
    for t in ('0', '50'):
        run = out/f'cochresnet_small_tau{t}_seed0'
        assert {'train.ipynb', 'checkpoint.pt', 'summary.json', 'report.json'} <= {f.name for f in run.iterdir()}
        assert json.loads((run/'summary.json').read_text())['tau'] == float(t)
    assert (out/'report.md').exists() and (out/'table2.csv').exists()  # written by the analysis job
    jobs = [d for d in (out/'.submitit').iterdir() if list(d.glob('*_result.pkl'))]
    assert len(jobs) == 3, list((out/'.submitit').rglob('*'))              # two run jobs and the analysis job
    # (skipping runs already done is checked at submission, in the Slurm test below, and in tests/test_sweep.py)

SBATCH = '''#!/bin/bash
# stand-in for Slurm's sbatch: keep the submitted script, answer like sbatch
n=$(ls "$SBATCH_LOG"/*.sh 2>/dev/null | wc -l); id=$((4242 + n))
cp "${@: -1}" "$SBATCH_LOG/$id.sh"; echo "$@" > "$SBATCH_LOG/$id.args"
echo "Submitted batch job $id"
'''

def test_slurm_array_and_dependent_analysis(tmp_path, topo_env):
    bin_, log = tmp_path/'bin', tmp_path/'sbatch'; bin_.mkdir(); log.mkdir()
    (bin_/'sbatch').write_text(SBATCH); (bin_/'srun').write_text('#!/bin/bash\n')   # submitit looks for srun
    for f in ('sbatch', 'srun'): (bin_/f).chmod(0o755)
    env = dict(topo_env, PATH=f"{bin_}:{topo_env['PATH']}", SBATCH_LOG=str(log))
    out, nb = tmp_path/'sweep', toy_notebook(tmp_path/'toy.ipynb')
    # one run is already done with the same parameters: it must not be submitted again
    done = subprocess.run([EXE, '--taus', '5', '--out-dir', str(out), '--notebook', nb, '--no-analyse', '--param', 'steps=3'],
                          env=topo_env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    cmd = [EXE, '--executor', 'slurm', '--taus', '0', '5', '50', '--out-dir', str(out), '--notebook', nb, '--param', 'steps=3',
           '--partition', 'gpu', '--gpus-per-run', '1', '--time-min', '600', '--array-parallelism', '8', '--slurm-param', 'account=mylab']
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    scripts = sorted(log.glob('*.sh'))
    assert [s.stem for s in scripts] == ['4242', '4243']
    array, analysis = scripts[0].read_text(), scripts[1].read_text()
    assert '#SBATCH --array=0-1%2' in array                              # two runs to do (τ = 0, 50), τ = 5 is done
    assert '#SBATCH --partition=gpu' in array and '#SBATCH --gpus-per-node=1' in array and '#SBATCH --account=mylab' in array
    assert '#SBATCH --time=600' in array
    assert '#SBATCH --dependency=afterany:4242' in analysis and '--array' not in analysis
    assert 'Slurm array 4242' in p.stderr and 'analysis job 4243' in p.stderr
    # the pickled jobs are execute_run on the two runs still to do, then analyse_sweep
    import cloudpickle
    subs = [cloudpickle.loads(f.read_bytes()) for f in sorted((out/'.submitit').rglob('*_submitted.pkl'))]
    got = sorted((s.function.__name__, getattr(s.args[0], 'name', None)) for s in subs)
    assert got == [('analyse_sweep', 'sweep'), ('execute_run', 'cochresnet_small_tau0_seed0'), ('execute_run', 'cochresnet_small_tau50_seed0')]
    # a changed request is refused before anything is submitted
    p = subprocess.run(cmd[:-2] + ['--param', 'steps=9'], env=env, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert p.returncode == 2 and 'was trained with steps=3, requested steps=9' in p.stderr, p.stderr[-2000:]
    assert len(list(log.glob('*.sh'))) == 2

def test_local_executor_forwards_sigterm(tmp_path, topo_env):
    "SIGTERM to a `--executor local` sweep stops the submitit jobs, their papermill children and kernels; runs are interrupted."
    import signal, psutil
    from test_sweep import toy_cmd, wait_for, gone
    nb, out = toy_notebook(tmp_path/'sleepy.ipynb', sleep=120), tmp_path/'sweep'
    proc = subprocess.Popen(toy_cmd(out, nb, '--executor', 'local', taus=('5', '50')), env=topo_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    pids = [*wait_for(out/'cochresnet_small_tau5_seed0'/'pids.json', proc, timeout=300),
            *wait_for(out/'cochresnet_small_tau50_seed0'/'pids.json', proc, timeout=300)]
    tree = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    t0 = time.time()                                   # processes may take a moment to be reaped on a loaded machine
    while [p for p in tree + pids if not gone(p)] and time.time() - t0 < 20: time.sleep(0.5)
    assert not [p for p in tree + pids if not gone(p)]
    states = lambda: [status(out)[f'cochresnet_small_tau{t}_seed0']['state'] for t in (5, 50)]
    t0 = time.time()
    while states() != ['interrupted'] * 2 and time.time() - t0 < 20: time.sleep(0.5)
    assert states() == ['interrupted'] * 2
