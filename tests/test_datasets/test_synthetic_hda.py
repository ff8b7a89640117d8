import hashlib
import os

import numpy as np

from hda_plugin.datasets import HDADataset
from hda_plugin.fileio import SeqReader, load_vbb
from hda_plugin.fileio.hda_layout import HDA_LAYOUT
from hda_plugin.testing import make_synthetic_hda


def _digest(root):
    h = hashlib.sha256()
    for sub in (HDA_LAYOUT['seq'], HDA_LAYOUT['ann']):
        for name in sorted(os.listdir(os.path.join(root, sub))):
            with open(os.path.join(root, sub, name), 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


def test_deterministic_for_a_seed(tmp_path):
    a, b, c = (str(tmp_path / n) for n in 'abc')
    make_synthetic_hda(a, [18], frames=3, seed=7, progress=False)
    make_synthetic_hda(b, [18], frames=3, seed=7, progress=False)
    make_synthetic_hda(c, [18], frames=3, seed=8, progress=False)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_real_layout_formats_and_content(synthetic_release):
    root = synthetic_release
    seqs = sorted(os.listdir(os.path.join(root, HDA_LAYOUT['seq'])))
    assert seqs == ['camera17.seq', 'camera19.seq', 'camera50.seq']
    sizes, paddings = {}, set()
    labels = set()
    heights = []
    min_px = 1e9
    for cam in (17, 19, 50):
        with SeqReader(os.path.join(root, HDA_LAYOUT['seq'], f'camera{cam}.seq')) as r:
            assert r.codec == 'jpg' and len(r) == 6
            sizes[cam] = (r.width, r.height)
            paddings.add(r.padding)
        ann = load_vbb(os.path.join(root, HDA_LAYOUT['ann'], f'cam{cam}.txt'))
        assert ann.n_frames == 6
        for o in ann.objects:
            labels.add(o.label if not o.label[6:].isdigit() else 'person<ID>')
            if o.label.startswith('person') and o.label != 'personUnk':
                heights += list(o.pos[:, 3] / r.height)
                min_px = min(min_px, o.pos[:, 3].min())
                ratio = o.pos[:, 3] / o.pos[:, 2]
                np.testing.assert_allclose(ratio, 2.5, rtol=1e-2)
    assert sizes == {17: (640, 480), 19: (640, 480), 50: (1280, 800)}
    assert paddings == {8, 16}  # both Norpix frame layouts are exercised
    assert {'person<ID>', 'crowd'} <= labels
    # about 30 px (tracks are retired below 25 px) up to about half the frame
    assert min_px >= 25 and max(heights) <= 0.56


def test_scenes_differ_between_cameras(synthetic_release):
    means = []
    for cam in (17, 19):
        with SeqReader(os.path.join(synthetic_release, HDA_LAYOUT['seq'],
                                    f'camera{cam}.seq')) as r:
            means.append(r.read(0).reshape(-1, 3).mean(0))
    assert np.abs(means[0] - means[1]).max() > 10


def test_loads_with_hda_dataset(synthetic_release):
    ds = HDADataset(data_root=synthetic_release, cameras=[17, 50], test_mode=True)
    assert len(ds) == 12
    assert ds.load_summary['total']['persons'] > 10
    w = {d['camera']: d['width'] for d in (ds.get_data_info(i) for i in range(len(ds)))}
    assert w == {'cam17': 640, 'cam50': 1280}
