"""DumpHDADetections: what is written, and what the run record says when a commit fails."""
import json
import os.path as osp

import pytest
import torch
from mmengine.structures import InstanceData

from hda_plugin.evaluation import DumpHDADetections
from hda_plugin.fileio.alld import DETECTOR_MARKER, read_alld


def _sample(cam, frame, boxes, scores):
    return dict(camera=f'cam{cam:02d}', frame=frame, img_path=f'cam{cam:02d}/I{frame:05d}.jpg',
                pred_instances=InstanceData(bboxes=torch.tensor(boxes, dtype=torch.float32),
                                            scores=torch.tensor(scores),
                                            labels=torch.zeros(len(scores), dtype=torch.long)))


def _dump(root, samples):
    d = DumpHDADetections('Model', str(root))
    d.process({}, samples)
    return d


def test_rows_are_normalised_and_coco_counts_them(tmp_path):
    d = _dump(tmp_path, [_sample(17, 2, [[30, 60, 10, 20]], [0.5]),
                         _sample(60, 1, [[1, 2, 3, 4], [5, 6, 7, 9]], [0.9, 0.1])])
    d.compute_metrics(d.results)
    a = read_alld(osp.join(tmp_path, 'hda_detections', 'Model', 'camera17', 'Detections',
                           'allD.txt'))
    assert a.boxes.tolist() == [[10, 20, 20, 40]]  # corners swapped, never a negative width
    coco = json.load(open(osp.join(tmp_path, 'hda_detections', 'Model', 'coco_results.json')))
    assert [r['image_id'] for r in coco] == [1700002, 6000001, 6000001]
    record = json.load(open(osp.join(tmp_path, 'hda_detections', 'Model', DETECTOR_MARKER)))
    assert record['state'] == 'complete' and record['files']['coco_results.json']['boxes'] == 3


def test_a_commit_failing_midway_is_recorded(tmp_path, monkeypatch):
    from hda_plugin.fileio import alld
    d = _dump(tmp_path, [_sample(17, 1, [[1, 2, 3, 4]], [0.5]),
                         _sample(60, 1, [[1, 2, 3, 4]], [0.5])])
    real, calls = alld.AllDWriter.commit, []

    def commit(self):
        calls.append(self.path)
        if len(calls) == 2:
            raise OSError(28, 'No space left on device')
        return real(self)

    monkeypatch.setattr(alld.AllDWriter, 'commit', commit)
    with pytest.raises(OSError, match='No space'):
        d.compute_metrics(d.results)
    det = osp.join(tmp_path, 'hda_detections', 'Model')
    record = json.load(open(osp.join(det, DETECTOR_MARKER)))
    assert record['state'].startswith('failed: OSError')
    assert list(record['files']) == [osp.join('camera17', 'Detections', 'allD.txt')]
    assert osp.isfile(osp.join(det, 'camera17', 'Detections', 'allD.txt'))
    assert not osp.exists(osp.join(det, 'camera60', 'Detections', 'allD.txt'))
    assert not osp.exists(osp.join(det, 'coco_results.json'))
