"""Regenerate topoaudio/registry.csv (public URL + sha256 + size of every data file) from a local mirror.

    python tools/make_registry.py ../shared/data

Run it only when the set of public files changes; the checksums pin exactly those files.
"""
import csv, hashlib, sys
from pathlib import Path

NAT = 'https://raw.githubusercontent.com/snormanhaignere/natsound165-neuron2015/HEAD/'
SOURCES = [  # (mirror prefix, public prefix)
    ('natsound165/wav/', NAT + 'stimuli/wav/'),
    ('natsound165/category_labels.csv', NAT + 'stimuli/category_labels.csv'),
    ('nh2015/components.mat', NAT + 'data/components.mat'),
    ('nh2015/component_maps/', NAT + 'data/component-weight-significances/group/'),
    ('noise/backgrounds/', 'https://raw.githubusercontent.com/mcdermottLab/NoiseSchemas/HEAD/assets/backgrounds/original/'),
    ('noise/LICENSE', 'https://raw.githubusercontent.com/mcdermottLab/NoiseSchemas/HEAD/LICENSE'),
    ('wsn_labels/words.json', 'https://raw.githubusercontent.com/jenellefeather/cochdnn/HEAD/words.json'),
]

def url_for(rel):
    for pre, url in SOURCES:
        if rel == pre: return url
        if pre.endswith('/') and rel.startswith(pre): return url + rel[len(pre):]
    return ''   # mirror-only (no public URL known): the fetcher says so

if __name__ == '__main__':
    root = Path(sys.argv[1])
    rows = []
    for p in sorted(root.rglob('*')):
        if not p.is_file() or p.name.startswith('.'): continue
        rel = p.relative_to(root).as_posix()
        rows.append((rel, url_for(rel), hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size))
    out = Path(__file__).parents[1] / 'topoaudio' / 'registry.csv'
    out.parent.mkdir(exist_ok=True)
    with open(out, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['key', 'url', 'sha256', 'size']); w.writerows(rows)
    print(f'{len(rows)} files -> {out}')
