"""Regenerate topoaudio/registry.csv (public URL or derivation, sha256 and size of every data file) from a local mirror.

    python tools/make_registry.py ../shared/data                       # rewrite the registry
    python tools/make_registry.py ../shared/data --verify-sources DIR  # also rebuild the derived tables from the
                                                                       # source files in DIR and compare byte for byte

Run it only when the set of public files changes; the checksums pin exactly those files.
Every row is one of: a file with a public `url`; a `source` file (under `sources/`, not in the mirror, with a public
`url`); a table `derive`d from a source file at fetch time; or `mirror-only` (test references).
"""
import csv, hashlib, sys
from pathlib import Path

NAT = 'https://raw.githubusercontent.com/snormanhaignere/natsound165-neuron2015/HEAD/'
SOURCES = [  # (mirror prefix, public prefix); checked against the git blobs of b41b99ff (natsound165) and 9ddfcdae (NoiseSchemas)
    ('natsound165/wav/', NAT + 'stimuli/wav/'),
    ('natsound165/category_labels.csv', NAT + 'stimuli/category_labels.csv'),
    ('nh2015/components.mat', NAT + 'data/components.mat'),
    ('nh2015/component_maps/', NAT + 'data/component-weight-significances/group/'),
    ('noise/backgrounds/', 'https://raw.githubusercontent.com/mcdermottLab/NoiseSchemas/HEAD/assets/backgrounds/original/'),
    ('noise/LICENSE', 'https://raw.githubusercontent.com/mcdermottLab/NoiseSchemas/HEAD/LICENSE'),
]
# Source files of derived tables: pinned to a commit (URL, sha256 and size of the git blob at that commit).
COCHDNN = 'https://raw.githubusercontent.com/jenellefeather/cochdnn/8702294a922d06b5035c0758d58bddf920d730c8/'
METAMERS = ('https://raw.githubusercontent.com/jenellefeather/model_metamers_pytorch/f89cdad5c355081f97886863ed901fc9b34bce21/'
            'model_analysis_folders/audio_networks/cochresnet50/regression_results/natsound_activations/')
SOURCE_FILES = [  # (key, url, sha256, size)
    ('sources/cochdnn/word_and_speaker_encodings_jsinv3.pckl',
     COCHDNN + 'robustness/audio_functions/word_and_speaker_encodings_jsinv3.pckl',
     'd57c049b52eb7ed052a40c6a8b0732a21761342d0ec298112b1dcf5231b098a9', 117063),
    ('sources/model_metamers_pytorch/cochresnet50_avgpool_randseed3882.pckl',
     METAMERS + 'voxelwise_regression_b%27avgpool%27_randseed3882_zero_center_fmri_activations.pckl',
     'fae11f3033ecacbb99bf86deee59929761b37be8ab10cdb8ca57bdfd65cd6c17', 1735386),
]
DERIVED = {  # mirror key -> (source key, derivation name in topoaudio.fetch.DERIVATIONS)
    'wsn_labels/words.json': (SOURCE_FILES[0][0], 'wsn_words_json'),
    'nh2015/voxel_meta.csv': (SOURCE_FILES[1][0], 'nh2015_voxel_meta_csv'),
    'nh2015/splits_seed3882.npz': (SOURCE_FILES[1][0], 'nh2015_splits_npz'),
}
MIRROR_ONLY = {'reference/cochleagram_cfg1_reference.npz'}   # test reference (computed with chcochleagram)

def row_for(rel):
    "(url, source, derive) of a mirror file."
    if rel in DERIVED: return ('',) + DERIVED[rel]
    if rel in MIRROR_ONLY: return '', '', 'mirror-only'
    for pre, url in SOURCES:
        if rel == pre: return url, '', ''
        if pre.endswith('/') and rel.startswith(pre): return url + rel[len(pre):], '', ''
    raise SystemExit(f'{rel}: no public URL, derivation or mirror-only entry is known; add one to {__file__}')

def verify_sources(root, src_dir):
    "Rebuild every derived table from the source files in `src_dir` (named by their key) and compare with the mirror."
    sys.path.insert(0, str(Path(__file__).parents[1]))
    from topoaudio.fetch import DERIVATIONS, sha256_file
    for key, url, sha, size in SOURCE_FILES:
        p = Path(src_dir)/key
        assert sha256_file(p) == sha, f'{p} is not the pinned source file'
    for key, (src, how) in DERIVED.items():
        same = DERIVATIONS[how](Path(src_dir)/src) == (Path(root)/key).read_bytes()
        print(f'{key}: rebuilt from {src} with {how}: {"identical to the mirror" if same else "DIFFERENT"}')

if __name__ == '__main__':
    root = Path(sys.argv[1])
    if '--verify-sources' in sys.argv: verify_sources(root, sys.argv[sys.argv.index('--verify-sources') + 1]); sys.exit()
    rows = []
    for p in sorted(root.rglob('*')):
        if not p.is_file() or p.name.startswith('.'): continue
        rel = p.relative_to(root).as_posix()
        rows.append((rel, *row_for(rel)[:1], hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size, *row_for(rel)[1:]))
    rows += [(k, u, s, n, '', '') for k, u, s, n in SOURCE_FILES]
    out = Path(__file__).parents[1] / 'topoaudio' / 'registry.csv'
    with open(out, 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['key', 'url', 'sha256', 'size', 'source', 'derive']); w.writerows(rows)
    print(f'{len(rows)} entries -> {out}')
