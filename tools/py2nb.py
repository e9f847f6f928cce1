"""Start a NEW notebook from a percent-format draft (developer tool; not needed at run time).

    python tools/py2nb.py /tmp/draft.py nbs/17_new.ipynb

One way, once: committed notebooks are the source and are edited as notebooks; this tool refuses to overwrite one.

Cells start with `# %%` (code), `# %% [markdown]` (markdown: a leading '# ' is stripped from each line),
optionally followed by `tags=["parameters"]`. The reverse: `python tools/py2nb.py --to-py NB.ipynb OUT.py`.
"""
import hashlib, json, re, sys
from pathlib import Path

HDR = re.compile(r'^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$')

def _cell(kind, lines, tags):
    while lines and not lines[-1].strip(): lines.pop()
    while lines and not lines[0].strip(): lines.pop(0)
    if kind == 'markdown': lines = [l[2:] if l.startswith('# ') else l.lstrip('#') for l in lines]
    src = [l + '\n' for l in lines]
    if src: src[-1] = src[-1][:-1]
    c = {'cell_type': kind, 'metadata': {'tags': tags} if tags else {}, 'source': src}
    if kind == 'code': c.update(execution_count=None, outputs=[])
    return c

def py2nb(text):
    cells, kind, tags, buf = [], None, None, []
    for line in text.splitlines():
        m = HDR.match(line)
        if m:
            if kind: cells.append(_cell(kind, buf, tags))
            kind, tags, buf = ('markdown' if m['md'] else 'code'), (json.loads(m['tags']) if m['tags'] else None), []
        elif kind: buf.append(line)
    if kind: cells.append(_cell(kind, buf, tags))
    add_ids(cells)
    return {'cells': cells, 'metadata': {'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}},
            'nbformat': 4, 'nbformat_minor': 5}

def add_ids(cells):
    "Deterministic cell ids (nbformat 4.5): nbdev_export writes them into topoaudio/*.py, so they must not be random."
    seen = set()
    for i, c in enumerate(cells):
        h = hashlib.sha1(f"{c['cell_type']}:{''.join(c['source'])}".encode()).hexdigest()[:8]
        while h in seen: h = hashlib.sha1((h + str(i)).encode()).hexdigest()[:8]
        seen.add(h); c['id'] = h

def nb2py(nb):
    out = []
    for c in nb['cells']:
        tags = c.get('metadata', {}).get('tags')
        hdr = '# %%' + (' [markdown]' if c['cell_type'] == 'markdown' else '') + (f' tags={json.dumps(tags)}' if tags else '')
        src = ''.join(c['source']).splitlines()
        if c['cell_type'] == 'markdown': src = ['# ' + l if l else '#' for l in src]
        out += [hdr] + src + ['']
    return '\n'.join(out)

if __name__ == '__main__':
    if sys.argv[1] == '--ids':   # give existing notebooks deterministic ids where they have none
        for f in sys.argv[2:]:
            nb = json.loads(Path(f).read_text())
            if any('id' not in c for c in nb['cells']): add_ids(nb['cells']); Path(f).write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + '\n')
    elif sys.argv[1] == '--to-py': Path(sys.argv[3]).write_text(nb2py(json.loads(Path(sys.argv[2]).read_text())))
    else:
        import subprocess
        out = Path(sys.argv[2])
        tracked = out.exists() and subprocess.run(['git', 'ls-files', '--error-unmatch', str(out)], capture_output=True).returncode == 0
        if tracked: sys.exit(f'{out} is a committed notebook: edit it as a notebook; py2nb only starts new ones')
        out.write_text(json.dumps(py2nb(Path(sys.argv[1]).read_text()), indent=1, sort_keys=True, ensure_ascii=False) + '\n')
