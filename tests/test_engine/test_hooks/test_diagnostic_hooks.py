"""Hand-made inputs for the diagnostic hooks' own logic."""
import numpy as np
import pytest
import torch
from mmdet.models.task_modules.prior_generators import SSDAnchorGenerator
from mmdet.structures import DetDataSample
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData

from hda_plugin.engine.hooks import (
    AnchorCoverage,
    AnchorCoverageHook,
    DatasetSanityHook,
    TrainingDiagnosisError,
    ZeroAPDiagnosisHook,
)


class _Runner:
    logger = MMLogger.get_instance('hda_test_hooks')


class _Dataset:
    """The part of a BaseDetDataset the hooks read."""

    def __init__(self, infos, classes=('person', ), pipeline=None):
        self.infos, self.metainfo, self.pipeline = infos, dict(classes=classes), pipeline

    def __len__(self):
        return len(self.infos)

    def get_data_info(self, i):
        return self.infos[i]


def _info(boxes, labels=None, ignore=None, w=64, h=64):
    labels = labels or [0] * len(boxes)
    ignore = ignore or [0] * len(boxes)
    return dict(img_path=f'img{len(boxes)}.jpg', width=w, height=h, instances=[
        dict(bbox=b, bbox_label=lab, ignore_flag=ig) for b, lab, ig in zip(boxes, labels, ignore)])


def test_sanity_counts_and_out_of_range_labels():
    ds = _Dataset([_info([[0, 0, 10, 20], [5, 5, 5, 30]]),                 # 1 usable, 1 degenerate
                   _info([[0, 0, 10, 20]], labels=[15]),                   # label out of range
                   _info([[0, 0, 70, 20], [1, 1, 9, 9]], ignore=[0, 1]),   # outside + ignored
                   _info([])])
    hook = DatasetSanityHook()
    st = hook.collect([ds], num_classes=1)
    assert (st['images'], st['boxes'], st['usable'], st['degenerate'], st['ignored'],
            st['outside']) == (4, 5, 2, 1, 1, 1)
    assert st['out_of_range'] == {15: 1} and st['empty'] == 2
    assert st['per_class'] == {0: 2}
    table = hook.table(st, ('person', ))
    assert 'class 0 (person)' in table and 'label out of range' in table


def _anchor_generator():
    # one level, stride 16, square 16 px anchors and 1:2 / 2:1 ones of the same area
    return SSDAnchorGenerator(strides=[16], ratios=[[2]], min_sizes=[16], max_sizes=[16],
                              scale_major=False)


def test_anchor_coverage_on_boxes_with_known_ious():
    gen = _anchor_generator()
    anchors = gen.grid_priors([(4, 4)], device='cpu')[0]
    exact = anchors[5].tolist()             # an anchor itself: IoU 1
    tiny = [24.0, 24.0, 26.0, 27.0]         # 2x3 px inside a 16 px anchor
    ds = _Dataset([_info([exact, tiny])])
    res = AnchorCoverageHook().measure([ds], gen, pos_thr=0.5, divisor=1)
    assert isinstance(res, AnchorCoverage)
    assert res.n == 2 and res.coverage == pytest.approx(0.5)
    assert res.best_iou[0] == pytest.approx(1.0)
    assert res.best_iou[1] == pytest.approx(6 / 256, rel=1e-4)
    assert [(b.lo, b.hi, b.n) for b in res.bins] == [(0, 8, 1), (16, 32, 1)]
    assert res.anchor_min_size == pytest.approx(16) and res.images == 1
    table = AnchorCoverageHook.table(res)
    assert 'anchor coverage at IoU >= 0.5 on 2 boxes from 1 sampled images' in table
    assert '50.0%' in table
    tip = AnchorCoverageHook.suggest(res)
    assert 'smaller than the smallest anchor (16 px' in tip and 'Enlarge the input' in tip


def test_anchor_coverage_names_a_coarse_grid():
    gen = _anchor_generator()
    # boxes of exactly an anchor's shape (the tall 1:2 one), centred halfway between
    # anchor centres (7.5, 23.5, ... px): the right shape, in the wrong place
    base = gen.base_anchors[0]
    tall = base[(base[:, 3] - base[:, 1]).argmax()]
    w, h = float(tall[2] - tall[0]), float(tall[3] - tall[1])
    boxes = [[cx - w / 2, 15.5 - h / 2, cx + w / 2, 15.5 + h / 2] for cx in (15.5, 31.5)]
    res = AnchorCoverageHook().measure([_Dataset([_info(boxes)])], gen, 0.5, 1)
    assert res.coverage < 0.5 and all(res.shape_iou > 0.99)
    assert 'grid too coarse' in AnchorCoverageHook.suggest(res)


def _sample(pred_boxes, pred_labels, scores, gt_boxes, gt_labels):
    s = DetDataSample()
    s.pred_instances = InstanceData(bboxes=torch.tensor(pred_boxes, dtype=torch.float32)
                                    .reshape(-1, 4), labels=torch.tensor(pred_labels),
                                    scores=torch.tensor(scores, dtype=torch.float32))
    s.gt_instances = InstanceData(bboxes=torch.tensor(gt_boxes, dtype=torch.float32)
                                  .reshape(-1, 4), labels=torch.tensor(gt_labels))
    s.ignored_instances = InstanceData(bboxes=torch.zeros((0, 4)),
                                       labels=torch.zeros(0, dtype=torch.long))
    return s


def _zero_ap(samples, metrics):
    hook = ZeroAPDiagnosisHook()
    hook._reset()
    hook.after_val_iter(_Runner(), 0, outputs=samples)
    hook._check(_Runner(), metrics)
    return hook


def test_zero_ap_report_label_mismatch():
    box = [10, 10, 30, 60]
    hook = _zero_ap([_sample([box], [0], [0.9], [box], [14]),
                     _sample([box, [0, 0, 5, 5]], [0, 0], [0.8, 0.2], [box], [14])],
                    {'voc/AP50': 0.0, 'voc/mAP': 0.3, 'loss': 0.0})
    rep = hook.last_report
    assert rep.startswith('voc/AP50=0.0000 on 2 images')  # voc/mAP is above the threshold
    assert 'predictions per image: mean 1.5' in rep
    assert 'predicted label ids: 0: 3' in rep and 'ground-truth label ids: 14: 2' in rep
    assert 'ground truths found at IoU >= 0.5: 2/2 by any prediction, 0/2' in rep
    assert 'do not overlap: the class mapping differs' in rep
    assert hook.findings[-1].severity == 'warning'


def test_zero_ap_report_nothing_predicted_and_nothing_when_fine():
    hook = _zero_ap([_sample([], [], [], [[1, 1, 9, 9]], [0])], {'voc/AP50': 0.0})
    assert 'model predicts nothing above model.test_cfg.score_thr' in hook.last_report
    hook = _zero_ap([_sample([[1, 1, 9, 9]], [0], [0.9], [[1, 1, 9, 9]], [0])],
                    {'voc/AP50': 0.7})
    assert hook.last_report is None and not hook.findings


def test_stop_on_error_raises_and_collect_mode_does_not():
    hook = DatasetSanityHook()
    with pytest.raises(TrainingDiagnosisError, match=r'\[DatasetSanityHook\] boom'):
        hook.report(_Runner(), 'error', 'boom')
    hook = DatasetSanityHook(stop_on_error=False)
    hook.report(_Runner(), 'error', 'boom')
    assert hook.has_errors and np.array([f.severity for f in hook.findings]) == 'error'


def test_first_nonfinite_layer_is_found_in_forward_order():
    """Poison one conv deep in the backbone: the re-run forward pass names exactly it."""
    from conftest import DEMO_CFG
    from mmdet.registry import MODELS
    from mmengine.config import Config

    from hda_plugin.engine.hooks import NonFiniteLossHook
    cfg = Config.fromfile(DEMO_CFG)
    model = MODELS.build(cfg.model)
    model.init_weights()
    hook = NonFiniteLossHook()
    hook._model = model
    sample = DetDataSample(metainfo=dict(img_shape=(96, 128), ori_shape=(96, 128),
                                         scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[10., 20., 30., 80.]]),
                                       labels=torch.tensor([0]))
    sample.ignored_instances = InstanceData(bboxes=torch.zeros((0, 4)),
                                            labels=torch.zeros(0, dtype=torch.long))
    batch = dict(inputs=[torch.randint(0, 255, (3, 96, 128), dtype=torch.uint8)],
                 data_samples=[sample])
    assert hook.first_nonfinite_layer(batch) is None
    target = model.backbone.layer3[0].depthwise_conv.conv  # inside layer3's first block
    with torch.no_grad():
        target.weight[0, 0, 0, 0] = float('inf')
    index, name, kind = hook.first_nonfinite_layer(batch)
    assert name == 'backbone.layer3.0.depthwise_conv.conv' and kind == 'Conv2d' and index > 0


def test_nonfinite_hook_wraps_and_restores_the_optimizer_step():
    """The step wrapper keeps MMEngine's scheduler counter flag, skips a step whose
    gradients are not finite (weights untouched) and is removed after training."""
    from mmengine.optim import OptimWrapper
    from mmengine.optim.scheduler import LinearLR

    from hda_plugin.engine.hooks import NonFiniteLossHook
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    ow = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    LinearLR(ow, start_factor=0.5, by_epoch=False, end=2)  # wraps ow.step with a counter
    counted = ow.step
    runner = _Runner()
    runner.model, runner.optim_wrapper, runner.iter = model, ow, 0
    hook = NonFiniteLossHook()
    hook.before_train(runner)
    assert ow.step is not counted and ow.step._with_counter
    hook.before_train_iter(runner, 0)
    ow.update_params(model(torch.ones(2, 3)).sum())
    assert hook._grad_norms.shape == (4, ) and bool((hook._grad_norms > 0).any())
    before = [p.detach().clone() for p in model.parameters()]
    hook.before_train_iter(runner, 1)
    ow.update_params(model(torch.full((2, 3), float('nan'))).sum())
    assert hook._skipped_step
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))
    hook.after_train(runner)
    assert ow.step is counted
