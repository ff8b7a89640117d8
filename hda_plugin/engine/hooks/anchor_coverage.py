"""``AnchorCoverageHook``: can the anchors match the persons at the network's input size?"""
import math
from dataclasses import dataclass
from typing import List, Optional

import numpy as np
import torch
from mmcv.transforms import Resize as MMCVResize
from mmdet.registry import HOOKS, TASK_UTILS
from mmdet.structures.bbox import bbox_overlaps

from ...structures.anchors import centred_anchor_ious, resize_factors
from ...utils.table import format_table
from .base import DiagnosticHook, base_datasets, unwrap_model

__all__ = ['AnchorCoverage', 'AnchorCoverageHook', 'CoverageBin', 'find_resize']

HEIGHT_BINS = (0, 8, 16, 32, 64, 128, 256, math.inf)


def find_resize(pipeline) -> Optional[MMCVResize]:
    """The first ``Resize`` (mmcv's or a subclass) of a dataset's pipeline, or
    ``SSDRandomCropResize`` (its output scale, ``keep_ratio=False``), or None."""
    from ...datasets.transforms import SSDRandomCropResize
    for t in getattr(pipeline, 'transforms', []):
        if isinstance(t, (MMCVResize, SSDRandomCropResize)):
            return t
    return None


@dataclass
class CoverageBin:
    """Coverage of the boxes whose height is in ``[lo, hi)`` px (at the network input)."""
    lo: float
    hi: float
    #: boxes in the bin
    n: int
    #: share of them whose best anchor reaches the assigner's ``pos_iou_thr``
    coverage: float
    #: their mean best-anchor IoU
    mean_iou: float


@dataclass(eq=False)  # numpy fields: compare what you need, not the whole
class AnchorCoverage:
    """What :meth:`AnchorCoverageHook.measure` finds; per-box arrays are aligned, one entry
    per sampled training box, at the size the network sees it."""
    #: boxes measured
    n: int
    #: share of them whose best anchor reaches ``pos_thr``
    coverage: float
    #: the assigner's ``pos_iou_thr``
    pos_thr: float
    #: IoU of each box's best anchor, on the anchor grid
    best_iou: np.ndarray
    #: box heights and widths (px)
    heights: np.ndarray
    widths: np.ndarray
    #: ``best_iou >= pos_thr``
    covered: np.ndarray
    #: the same by box height (:data:`HEIGHT_BINS`), empty bins left out
    bins: List[CoverageBin]
    #: each box's best IoU with every anchor shape centred on it (grid placement aside)
    shape_iou: np.ndarray
    #: the stride (px) of the level holding that best-shaped anchor
    shape_stride: np.ndarray
    #: smallest and largest anchor, as sqrt(w * h) px
    anchor_min_size: float
    anchor_max_size: float
    #: the anchors' width/height ratios, rounded to 0.01
    anchor_aspects: List[float]
    #: the network input size(s), for messages
    input_desc: str
    #: training images sampled
    images: int


@HOOKS.register_module()
class AnchorCoverageHook(DiagnosticHook):
    """Best-anchor IoU of the training persons, at the size the network sees them.

    Before training, for a sample of training images, the ground-truth boxes are scaled as
    the pipeline's ``Resize`` scales them (random crops and ``Expand`` are not modelled),
    the head's anchor generator lays its anchors on the padded input, and each box gets
    the IoU of its best anchor. The share reaching the assigner's ``pos_iou_thr`` is the
    coverage: a box below it is matched only by MaxIoUAssigner's low-quality rule, or not
    at all. The log gets a table by box height and, when coverage is poor, a concrete
    change (input size, anchor sizes or ratios, threshold).

    Args:
        max_images (int): images sampled (seeded); 0 for all.
        warn_below (float): coverage under this is a warning.
        error_below (float): coverage under this is an error (``diagnose.py`` exits 1);
            training stops only with ``stop_on_error=True``.
        seed (int): sampling seed.
        anchor_generator (dict, optional): measure these anchors instead of the head's,
            with ``input_scale`` applied after the pipeline's Resize (``diagnose.py
            --shrink`` uses both to check the full-size setting while it trains shrunk).
        input_scale (float): extra scale on the network input, see ``anchor_generator``.
        enabled, stop_on_error: see :class:`DiagnosticHook`.
    """
    priority = 'VERY_HIGH'

    def __init__(self, max_images: int = 1000, warn_below: float = 0.5,
                 error_below: float = 0.2, seed: int = 0,
                 anchor_generator: Optional[dict] = None, input_scale: float = 1.0,
                 stop_on_error: bool = False, **kwargs):
        super().__init__(stop_on_error=stop_on_error, **kwargs)
        self.anchor_generator = anchor_generator
        self.input_scale = input_scale
        self.max_images = max_images
        self.warn_below = warn_below
        self.error_below = error_below
        self.seed = seed
        #: the last measurement; None before it, or when no box could be measured
        self.result: Optional[AnchorCoverage] = None

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        model = unwrap_model(runner.model)
        head = getattr(model, 'bbox_head', None)
        prior_gen = getattr(head, 'prior_generator', None)
        if self.anchor_generator is not None:
            prior_gen = TASK_UTILS.build(self.anchor_generator)
        if prior_gen is None or not hasattr(prior_gen, 'base_anchors'):
            self.report(runner, 'info', 'the model has no anchor generator; skipped.')
            return
        train_cfg = getattr(head, 'train_cfg', None) or {}
        pos_thr = float(train_cfg.get('assigner', {}).get('pos_iou_thr', 0.5))
        divisor = int(getattr(model.data_preprocessor, 'pad_size_divisor', 1) or 1)
        datasets = list(base_datasets(runner.train_dataloader.dataset))
        res = self.result = self.measure(datasets, prior_gen, pos_thr, divisor)
        if res is None:
            self.report(runner, 'info', 'no usable training box to measure; skipped.')
            return
        runner.logger.info(f'[{self.check_name}] {self.table(res)}')
        cov = res.coverage
        if cov >= self.warn_below:
            self.report(runner, 'info', f'{cov:.1%} of {res.n} sampled boxes reach '
                        f'IoU >= {pos_thr} with an anchor.')
            return
        severity = 'error' if cov < self.error_below else 'warning'
        self.report(runner, severity,
                    f'poor anchor coverage: only {cov:.1%} of {res.n} sampled training '
                    f'boxes reach IoU >= {pos_thr} (assigner pos_iou_thr) with any anchor at '
                    f'the network input {res.input_desc}; the others get at most a '
                    f'low-quality match. {self.suggest(res)}')

    def measure(self, datasets, prior_gen, pos_thr: float,
                divisor: int) -> Optional[AnchorCoverage]:
        """Best-anchor IoU of the (sampled) training boxes of ``datasets`` under the anchors
        of ``prior_gen``, on an input padded to a multiple of ``divisor``; None when no
        usable box was found."""
        infos = []
        for ds in datasets:
            resize = find_resize(ds.pipeline)
            infos.extend((ds, resize, i) for i in range(len(ds)))
        rng = np.random.default_rng(self.seed)
        if self.max_images and len(infos) > self.max_images:
            infos = [infos[i] for i in sorted(rng.choice(len(infos), self.max_images,
                                                         replace=False))]
        anchors_by_shape = {}
        best, heights, widths, shapes = [], [], [], set()
        for ds, resize, i in infos:
            info = ds.get_data_info(i)
            boxes = [inst['bbox'] for inst in info.get('instances', [])
                     if not inst.get('ignore_flag', 0)]
            if not boxes:
                continue
            w, h = int(info['width']), int(info['height'])
            sx, sy = resize_factors(resize, w, h)
            sx, sy = sx * self.input_scale, sy * self.input_scale
            in_w, in_h = int(round(w * sx)), int(round(h * sy))
            pad_h = int(math.ceil(in_h / divisor) * divisor)
            pad_w = int(math.ceil(in_w / divisor) * divisor)
            shapes.add((in_w, in_h))
            if (pad_h, pad_w) not in anchors_by_shape:
                sizes = [(int(math.ceil(pad_h / s[1])), int(math.ceil(pad_w / s[0])))
                         for s in prior_gen.strides]
                anchors_by_shape[(pad_h, pad_w)] = torch.cat(
                    prior_gen.grid_priors(sizes, device='cpu'))
            gt = torch.tensor(boxes, dtype=torch.float32) * torch.tensor([sx, sy, sx, sy])
            gt = gt[(gt[:, 2] > gt[:, 0]) & (gt[:, 3] > gt[:, 1])]
            if not len(gt):
                continue
            iou = bbox_overlaps(gt, anchors_by_shape[(pad_h, pad_w)])
            best.append(iou.max(dim=1).values.numpy())
            heights.append((gt[:, 3] - gt[:, 1]).numpy())
            widths.append((gt[:, 2] - gt[:, 0]).numpy())
        anchor_h = torch.cat([a[:, 3] - a[:, 1] for a in prior_gen.base_anchors]).numpy()
        anchor_w = torch.cat([a[:, 2] - a[:, 0] for a in prior_gen.base_anchors]).numpy()
        anchor_size = np.sqrt(anchor_w * anchor_h)
        anchor_stride = np.concatenate([
            np.full(len(a), max(s)) for a, s in zip(prior_gen.base_anchors, prior_gen.strides)])
        if not best:
            return None
        best, heights, widths = (np.concatenate(x) for x in (best, heights, widths))
        covered = best >= pos_thr
        # The same IoU with every anchor centred on the box: is there an anchor of the right
        # size and shape at all, wherever the grid puts it?
        shape_iou = centred_anchor_ious(np.stack([widths, heights], 1),
                                        np.stack([anchor_w, anchor_h], 1))
        best_shape = shape_iou.argmax(axis=1)
        bins = []
        for lo, hi in zip(HEIGHT_BINS[:-1], HEIGHT_BINS[1:]):
            m = (heights >= lo) & (heights < hi)
            if m.any():
                bins.append(CoverageBin(lo=lo, hi=hi, n=int(m.sum()),
                                        coverage=float(covered[m].mean()),
                                        mean_iou=float(best[m].mean())))
        in_sizes = sorted(shapes)
        input_desc = (f'{in_sizes[0][0]}x{in_sizes[0][1]}' if len(in_sizes) == 1 else
                      f'{in_sizes[0][0]}x{in_sizes[0][1]} .. {in_sizes[-1][0]}x{in_sizes[-1][1]}')
        return AnchorCoverage(
            n=int(len(best)), coverage=float(covered.mean()), pos_thr=pos_thr, best_iou=best,
            heights=heights, widths=widths, covered=covered, bins=bins,
            shape_iou=shape_iou.max(axis=1), shape_stride=anchor_stride[best_shape],
            anchor_min_size=float(anchor_size.min()), anchor_max_size=float(anchor_size.max()),
            anchor_aspects=sorted({round(float(a), 2) for a in anchor_w / anchor_h}),
            input_desc=input_desc + ' (after Resize, before random crop/Expand)',
            images=len(infos))

    @staticmethod
    def table(res: AnchorCoverage) -> str:
        lines = [f'anchor coverage at IoU >= {res.pos_thr} on {res.n} boxes from '
                 f'{res.images} sampled images, input {res.input_desc}; anchor sizes '
                 f'{res.anchor_min_size:.0f}..{res.anchor_max_size:.0f} px (sqrt(w*h)):',
                 ]
        rows = [(f'{b.lo:g}-{b.hi:g}' if math.isfinite(b.hi) else f'>= {b.lo:g}',
                 b.n, f'{b.coverage:.1%}', f'{b.mean_iou:.2f}') for b in res.bins]
        rows.append(('all', res.n, f'{res.coverage:.1%}', f'{float(np.mean(res.best_iou)):.2f}'))
        lines += format_table(('box height (px)', 'boxes', 'coverage', 'mean best IoU'), rows)
        return '\n'.join(lines)

    @staticmethod
    def suggest(res: AnchorCoverage) -> str:
        # sizes as sqrt(area), so a thin person compares fairly with a square anchor
        miss = ~res.covered
        n_miss = max(int(miss.sum()), 1)
        size = np.sqrt(res.heights * res.widths)
        amin, amax = res.anchor_min_size, res.anchor_max_size
        no_shape = miss & (res.shape_iou < res.pos_thr)  # no anchor of this size/shape
        small = float((no_shape & (size < amin)).sum() / n_miss)
        large = float((no_shape & (size > amax)).sum() / n_miss)
        size_miss = size[miss]
        # an anchor of the right size and shape exists, but the grid places none on the box
        grid = miss & (res.shape_iou >= res.pos_thr)
        grid_share = float(grid.sum() / n_miss)
        tips: List[str] = []
        if small >= 0.5:
            med = float(np.median(size_miss[size_miss < amin]))
            k = amin / max(med, 1e-3)
            p10 = float(np.percentile(size, 10))
            tips.append(
                f'{small:.0%} of the unmatched boxes are smaller than the smallest anchor '
                f'({amin:.0f} px as sqrt(w*h); theirs is {med:.1f} px, median). Enlarge the '
                f'input about {k:.1f}x (the Resize scale in train_pipeline and test_pipeline),'
                f' or make the first level\'s anchors smaller (anchor_generator min_sizes[0] '
                f'about {max(p10, 1):.0f} px, or a smaller basesize_ratio_range start), or add '
                'a finer feature level.')
        elif large >= 0.5:
            tips.append(f'{large:.0%} of the unmatched boxes are larger than the largest '
                        f'anchor ({amax:.0f} px as sqrt(w*h)): raise max_sizes of the last '
                        'level or shrink the input.')
        elif grid_share >= 0.5:
            stride = float(np.median(res.shape_stride[grid]))
            width = float(np.median(res.widths[grid]))
            tips.append(
                f'{grid_share:.0%} of the unmatched boxes have an anchor of the right size and '
                f'shape, but on a grid too coarse for them: those anchors are {stride:.0f} px '
                f'apart while the boxes are {width:.0f} px wide (median), so a thin person '
                'between two anchor centres matches neither. Give these sizes to a level '
                'with a finer stride (smaller min_sizes/max_sizes per level), enlarge the '
                'input, or lower train_cfg.assigner.pos_iou_thr (e.g. 0.4); '
                'MaxIoUAssigner still gives each box its best anchor (min_pos_iou).')
        else:
            aspect = float(np.median(res.widths / np.maximum(res.heights, 1e-3)))
            tips.append(f'the unmatched boxes fall between anchor sizes or shapes; boxes have '
                        f'a median width/height of {aspect:.2f} and the anchors '
                        f'{res.anchor_aspects}: add ratio {1 / max(aspect, 1e-3):.1f} to '
                        'anchor_generator.ratios, use denser scales, or lower '
                        'train_cfg.assigner.pos_iou_thr (e.g. 0.4).')
        return 'Suggestion: ' + ' '.join(tips)
