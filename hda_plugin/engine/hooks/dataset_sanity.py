"""``DatasetSanityHook``: is there ground truth the loss can use, before the first iteration."""
from collections import Counter

import numpy as np
from mmdet.registry import HOOKS

from ...utils.table import format_table
from .base import DiagnosticHook, base_datasets, unwrap_model

__all__ = ['DatasetSanityHook']


@HOOKS.register_module()
class DatasetSanityHook(DiagnosticHook):
    """Checks the training annotations against the model before training starts.

    Over every training image (``data_list`` after the dataset's filters): labels in
    ``[0, num_classes)``, the class histogram, images without ground truth, degenerate
    boxes (width or height ``< min_box_size``), boxes outside the image, ignore regions.
    It logs one table. No usable ground truth at all, or labels out of range (the
    SSD-Tensorflow ``label 15 with num_classes=2`` failure), is an error: training stops
    with the fix in the message. Degenerate or outside boxes are warnings.

    Args:
        min_box_size (float): boxes thinner than this (pixels) count as degenerate.
        outside_tol (float): pixels a box may extend past the image border.
        max_empty_share (float): warn when more than this share of the training images
            has no usable ground truth.
        enabled, stop_on_error: see :class:`DiagnosticHook`.
    """
    priority = 'VERY_HIGH'

    def __init__(self, min_box_size: float = 1.0, outside_tol: float = 1.0,
                 max_empty_share: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.min_box_size = min_box_size
        self.outside_tol = outside_tol
        self.max_empty_share = max_empty_share
        self.stats = {}

    def before_train(self, runner) -> None:
        if not self.enabled:
            return
        model = unwrap_model(runner.model)
        head = getattr(model, 'bbox_head', None)
        num_classes = getattr(head, 'num_classes', None)
        datasets = list(base_datasets(runner.train_dataloader.dataset))
        classes = tuple(datasets[0].metainfo.get('classes', ())) if datasets else ()
        st = self.stats = self.collect(datasets, num_classes)
        table = self.table(st, classes)
        runner.logger.info(f'[{self.check_name}] training annotations:\n{table}')

        origin = ', '.join(sorted({type(d).__name__ for d in datasets}))
        if num_classes is not None and st['out_of_range']:
            bad = ', '.join(f'{label}: {n} boxes (e.g. {st["examples"][label]})'
                            for label, n in sorted(st['out_of_range'].items()))
            self.report(
                runner, 'error',
                f'labels outside [0, num_classes={num_classes}) in the training data '
                f'({origin}): {bad}. Such boxes reach no class of the head, so they are '
                f'lost or crash the loss. Fix: map the dataset labels to 0..{num_classes - 1}'
                f' (metainfo classes={classes}, SSDTFRecordDataset label_map=...) or set '
                f'model.bbox_head.num_classes to the number of object classes (without '
                'background).')
        if st['usable'] == 0:
            dropped = sum(int(getattr(d, 'load_summary', {}).get('unmapped_boxes', 0) or 0)
                          for d in datasets)
            where = (f' The dataset dropped {dropped} boxes whose label maps to no class '
                     "(unknown_labels='ignore'): that is where the ground truth went; the "
                     'label mapping table above lists their ids.' if dropped else '')
            self.report(
                runner, 'error',
                f'no usable ground truth in {st["images"]} training images ({origin}): '
                f'{st["boxes"]} boxes, {st["ignored"]} ignored, {st["degenerate"]} '
                f'degenerate, {sum(st["out_of_range"].values())} with labels out of range; '
                'no ground truth reaches the loss, so the detector can only learn '
                '"background". Fix: check the label mapping (label_map / unknown_labels='
                '\'error\' shows unknown ids), the ignore rules (occluded, ignore_labels) and '
                'filter_cfg of the training dataset.' + where)
            return
        if st['images'] and st['empty'] / st['images'] > self.max_empty_share:
            self.report(runner, 'warning',
                        f'{st["empty"]} of {st["images"]} training images '
                        f'({st["empty"] / st["images"]:.0%}) have no usable ground truth; '
                        'they only train "background". filter_cfg=dict(filter_empty_gt=True)'
                        ' drops them.')
        if st['degenerate']:
            self.report(runner, 'warning',
                        f'{st["degenerate"]} boxes are thinner than {self.min_box_size} px '
                        f'(e.g. {st["degenerate_example"]}); they cannot match an anchor. '
                        'Check the box format (x1, y1, x2, y2 in pixels).')
        if st['outside']:
            self.report(runner, 'warning',
                        f'{st["outside"]} boxes extend more than {self.outside_tol} px past '
                        f'the image border (e.g. {st["outside_example"]}): wrong image size '
                        'or box format, or unclipped annotations.')
        if not self.has_errors:
            self.report(runner, 'info',
                        f'{st["usable"]} usable boxes in {st["images"] - st["empty"]} of '
                        f'{st["images"]} training images.')

    def collect(self, datasets, num_classes=None) -> dict:
        """Counts over the data lists; labels are checked against ``num_classes`` (the
        head's), else against the number of classes in each dataset's metainfo."""
        st = dict(images=0, empty=0, boxes=0, ignored=0, usable=0, degenerate=0, outside=0,
                  per_class=Counter(), out_of_range=Counter(), examples={},
                  degenerate_example=None, outside_example=None)
        head_classes = num_classes
        for ds in datasets:
            classes = ds.metainfo.get('classes', ())
            num_classes = head_classes if head_classes is not None else (
                len(classes) if classes else None)
            for i in range(len(ds)):
                info = ds.get_data_info(i)
                st['images'] += 1
                w, h = info.get('width'), info.get('height')
                usable = 0
                for inst in info.get('instances', []):
                    st['boxes'] += 1
                    x1, y1, x2, y2 = (float(v) for v in inst['bbox'])
                    label = int(inst.get('bbox_label', -1))
                    where = f'{info.get("img_path", i)} box {[x1, y1, x2, y2]}'
                    if inst.get('ignore_flag', 0):
                        st['ignored'] += 1
                        continue
                    if min(x2 - x1, y2 - y1) < self.min_box_size or not np.isfinite(
                            [x1, y1, x2, y2]).all():
                        st['degenerate'] += 1
                        st['degenerate_example'] = st['degenerate_example'] or where
                        continue
                    if w and h and (x1 < -self.outside_tol or y1 < -self.outside_tol
                                    or x2 > w + self.outside_tol or y2 > h + self.outside_tol):
                        st['outside'] += 1
                        st['outside_example'] = st['outside_example'] or f'{where} in {w}x{h}'
                    if label < 0 or (num_classes is not None and label >= num_classes):
                        st['out_of_range'][label] += 1
                        st['examples'].setdefault(label, where)
                        continue
                    st['per_class'][label] += 1
                    usable += 1
                st['usable'] += usable
                st['empty'] += usable == 0
        return st

    @staticmethod
    def table(st: dict, classes) -> str:
        rows = [('images', st['images']), ('images without usable GT', st['empty']),
                ('boxes', st['boxes']), ('  ignored (ignore_flag)', st['ignored']),
                ('  degenerate', st['degenerate']), ('  outside the image', st['outside']),
                ('  label out of range', sum(st['out_of_range'].values())),
                ('  usable', st['usable'])]
        for label in sorted(st['per_class']):
            name = classes[label] if 0 <= label < len(classes) else '?'
            rows.append((f'  class {label} ({name})', st['per_class'][label]))
        return '\n'.join(format_table(('', ''), rows)[1:])
