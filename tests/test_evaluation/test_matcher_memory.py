"""match_batch's memory is bounded for any one image, and cutting the work gives the same
matches."""
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_env

from hda_plugin.evaluation.functional import match_batch


def _scene(rng, n_img, n_det, n_gt, n_settings=3):
    """Images of clustered boxes (many overlaps, equal scores, duplicate ground truths), the
    last image much bigger than the others; some ground truths ignore regions in some
    settings."""
    sizes_d = np.r_[rng.integers(0, 8, n_img - 1), n_det]
    sizes_g = np.r_[rng.integers(0, 5, n_img - 1), n_gt]
    dets, gts = [], []
    for nd, ng in zip(sizes_d, sizes_g):
        centres = rng.uniform(0, 200, (max(ng, 1), 2))
        g = np.c_[centres, centres + rng.uniform(20, 60, (len(centres), 2))][:ng]
        if ng > 2:
            g[1] = g[0]  # a duplicate
        gts.append(g)
        pick = centres[rng.integers(0, len(centres), nd)]
        x1y1 = pick + rng.normal(0, 6, (nd, 2))
        dets.append(np.c_[x1y1, x1y1 + rng.uniform(20, 60, (nd, 2))])
    det_img = np.repeat(np.arange(n_img), sizes_d)
    gt_img = np.repeat(np.arange(n_img), sizes_g)
    dets, gts = np.concatenate(dets), np.concatenate(gts)
    scores = np.round(rng.random(len(dets)), 1)  # many ties
    gts_ignore = gts + rng.uniform(-5, 5, gts.shape)
    det_keep = rng.random((n_settings, len(dets))) < 0.9
    gt_regular = rng.random((n_settings, len(gts))) < 0.7
    gt_regular[0] = True  # a setting without ignore regions
    return dets, scores, det_img, gts, gts_ignore, gt_img, det_keep, gt_regular


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_chunks_inside_one_image_give_the_same_matches(seed):
    args = _scene(np.random.default_rng(seed), 40, 300, 60)
    whole_dm, whole_gm = match_batch(*args, thr=0.5, max_pairs=10**9)  # one broadcast
    assert (whole_dm == 1).sum() > 50 and (whole_dm == -1).sum() > 10  # matching matters
    for max_pairs in (1, 7, 50, 59, 61, 1000, 17999):  # 300 x 60 = 18000 in the big image
        dm, gm = match_batch(*args, thr=0.5, max_pairs=max_pairs)
        assert np.array_equal(dm, whole_dm), max_pairs
        assert np.array_equal(gm, whole_gm), max_pairs


def test_one_frame_of_40k_detections_and_1k_ground_truths_stays_within_200mb():
    script = f"""
import resource, sys, time
sys.path.insert(0, {ROOT!r})
import numpy as np
from hda_plugin.evaluation.functional import match_batch

def frame(n_det, n_gt, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1800, (n_det, 2))
    d = np.c_[xy, xy + rng.uniform(10, 200, (n_det, 2))]
    xy = rng.uniform(0, 1800, (n_gt, 2))
    g = np.c_[xy, xy + rng.uniform(10, 200, (n_gt, 2))]
    reg = np.ones((2, n_gt), bool)
    reg[1, ::10] = False  # ignore regions in the second setting
    return (d, rng.random(n_det), np.zeros(n_det, np.int64), g, g, np.zeros(n_gt, np.int64),
            np.ones((2, n_det), bool), reg)

small, big = frame(400, 100), frame(40_000, 1_000)  # the inputs are allocated before the baseline
match_batch(*small)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.time()
dm, gm = match_batch(*big)
print((dm == 1).sum(), round(time.time() - t0, 1))
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""
    out = subprocess.run([sys.executable, '-c', script], env=run_env(), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    delta_kib = int(out.stdout.split()[-1])
    print(f'match_batch, one frame of 40,000 x 1,000: peak RSS +{delta_kib / 1024:.0f} MiB over '
          f'the baseline (matches, seconds: {out.stdout.split()[:2]})')
    assert int(out.stdout.split()[0]) > 0
    assert delta_kib < 200 * 1024, out.stdout
