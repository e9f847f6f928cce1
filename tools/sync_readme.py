"""Write README.md from nbs/index.ipynb (Quarto's `nbdev_readme` is not available offline).

    python tools/sync_readme.py          # rewrite README.md
    python tools/sync_readme.py --check  # exit 1 if README.md is out of date

Markdown cells are copied as they are (image links into `figures/` are pointed at `nbs/figures/`); code cells become ```python blocks (outputs are dropped); cells whose first
line is a `#|` directive containing `hide` are skipped.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    nb = json.loads(Path(nb_path).read_text())
    parts = []
    for c in nb['cells']:
        src = ''.join(c['source']).strip('\n')
        if not src: continue
        if c['cell_type'] == 'markdown': parts.append(src.replace('](figures/', '](nbs/figures/'))  # README sits one level up
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.startswith('#|') and 'hide' in l for l in lines): continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
            if code: parts.append('```python\n' + code + '\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    text = render()
    if '--check' in sys.argv:
        same = (ROOT/'README.md').read_text() == text
        print('README.md is in sync with nbs/index.ipynb' if same else 'README.md differs from nbs/index.ipynb: run python tools/sync_readme.py')
        sys.exit(0 if same else 1)
    (ROOT/'README.md').write_text(text)
