"""Offline evaluation of ``tools/test.py --out`` results (plot_curves.py, browse_dataset.py)
joins each result to its own frame: every frame of a Caltech video shares its img_path (the
.seq), so the join is on img_id."""
import os.path as osp

import numpy as np
import pytest
from mmengine import Config

import hda_plugin  # noqa: F401
from hda_plugin.evaluation.results import (
    evaluate_results,
    load_ground_truth,
    metric_from_config,
    sample_key,
)
from hda_plugin.testing.caltech_release import make_caltech_release

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_caltech_results_join_each_frame_of_a_video(tmp_path, monkeypatch):
    root = str(tmp_path / 'caltech')
    make_caltech_release(root, {(s, 0): 95 for s in range(6, 11)})  # set06-10: the test split
    monkeypatch.setenv('CALTECH_ROOT', root)
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', 'caltech.py'))
    gt = load_ground_truth(cfg, 'test')
    assert len(gt) == 5 * 3  # frames 29, 59, 89 (0-based) of each video
    assert list(gt)[:3] == ['set06_V000_I00029', 'set06_V000_I00059', 'set06_V000_I00089']
    assert len({g['img_path'] for g in gt.values()}) == 5  # one .seq a video
    assert [g['seq_frame'] for g in list(gt.values())[:3]] == [29, 59, 89]
    # a "detector" that returns each frame's own persons: no false positive anywhere
    results = []
    for key, g in gt.items():
        boxes = g['boxes'][~g['ignore']]
        results.append(dict(img_id=key, img_path=g['img_path'], pred_instances=dict(
            bboxes=boxes, scores=np.full(len(boxes), 0.9), labels=np.zeros(len(boxes), int))))
    evaluated = evaluate_results(results, gt, metric_from_config(cfg))
    assert [e['key'] for e in evaluated] == list(gt)
    flags = np.concatenate([e['dt_match'] for e in evaluated])
    assert (flags == 1).sum() > 0 and not (flags == 0).any()
    # the same detections joined by img_path would meet another frame's persons
    assert sample_key(dict(img_id=None, img_path='a.seq')) == 'a.seq'
    with pytest.raises(KeyError, match='not in the config'):
        evaluate_results([dict(results[0], img_id='set06_V000_I00030')], gt,
                         metric_from_config(cfg))
