"""A loop transcription of the official CityPersons evaluation, for the tests only.

Follows the structure of cvgroup-njust/CityPersons ``evaluation/eval_script/
eval_MR_multisetup.py`` (``_prepare``, ``evaluateImg``, ``iou``, ``accumulate``,
``summarize``) as run by its ``eval_demo.py``: the images become the gt JSON's
annotations (category 1, ``ignore`` 0 for persons and 1 for ignore regions, ``height`` =
box height, ``vis_ratio``) and the detections the result JSON's (``bbox`` x y w h, ids
1, 2, ... in file order), one plain Python loop per image, detection and ground truth.
Written for this project, not copied. Returns -1 where the script prints -1 (no regular
person).
"""
import math

import numpy as np

FPPI = [0.0100, 0.0178, 0.0316, 0.0562, 0.1000, 0.1778, 0.3162, 0.5623, 1.0000]
SETUPS = {
    'Reasonable': ([50, 1e5 ** 2], [0.65, 1e5 ** 2]),
    'Small': ([50, 75], [0.65, 1e5 ** 2]),
    'Heavy': ([50, 1e5 ** 2], [0.2, 0.65]),
    'All': ([20, 1e5 ** 2], [0.2, 1e5 ** 2]),
}
MAX_DET = 1000
EXP_FILTER = 1.25
IOU_THR = 0.5


def to_json(images):
    """The images as (gt annotations, detection results, image ids), JSON-like dicts."""
    gts, dts = [], []
    for img_id, im in enumerate(images, start=1):
        vis = im.visibility
        for k, b in enumerate(np.asarray(im.persons, dtype=np.float64).reshape(-1, 4)):
            x, y = float(b[0]), float(b[1])
            w, h = float(b[2]) - x, float(b[3]) - y
            v = 1.0 if vis is None else vis[k]
            if vis is not None and (math.isnan(float(v)) or float(v) == math.inf):
                v = 1.0
            gts.append(dict(image_id=img_id, category_id=1, ignore=0, bbox=[x, y, w, h],
                            height=h, vis_ratio=v))
        for b in np.asarray(im.ignores, dtype=np.float64).reshape(-1, 4):
            x, y = float(b[0]), float(b[1])
            w, h = float(b[2]) - x, float(b[3]) - y
            gts.append(dict(image_id=img_id, category_id=1, ignore=1, bbox=[x, y, w, h],
                            height=h, vis_ratio=1.0))
        for b, s in zip(np.asarray(im.dets, dtype=np.float64).reshape(-1, 4),
                        np.asarray(im.scores).reshape(-1)):
            x, y = float(b[0]), float(b[1])
            w, h = float(b[2]) - x, float(b[3]) - y
            dts.append(dict(image_id=img_id, category_id=1, bbox=[x, y, w, h], score=s,
                            height=h))
    for i, g in enumerate(gts, start=1):
        g['id'] = i
    for i, d in enumerate(dts, start=1):
        d['id'] = i
    return gts, dts, list(range(1, len(images) + 1))


def overlap_matrix(dts, gts):
    """The script's ``iou``: IoU, or intersection over the detection for ignore gts."""
    out = [[0.0] * len(gts) for _ in dts]
    for j, g in enumerate(gts):
        gx1, gy1 = g['bbox'][0], g['bbox'][1]
        gx2, gy2 = gx1 + g['bbox'][2], gy1 + g['bbox'][3]
        garea = g['bbox'][2] * g['bbox'][3]
        for i, d in enumerate(dts):
            dx1, dy1 = d['bbox'][0], d['bbox'][1]
            dx2, dy2 = dx1 + d['bbox'][2], dy1 + d['bbox'][3]
            darea = d['bbox'][2] * d['bbox'][3]
            w = min(dx2, gx2) - max(dx1, gx1)
            if w <= 0:
                continue
            h = min(dy2, gy2) - max(dy1, gy1)
            if h <= 0:
                continue
            inter = w * h
            union = darea if g['ignore'] else darea + garea - inter
            out[i][j] = float(inter) / union
    return out


def evaluate_image(gt, dt, h_rng):
    """``evaluateImg`` for one image (gts already flagged for the setup)."""
    if not gt and not dt:
        return None
    gt = [gt[i] for i in np.argsort([g['ignore'] for g in gt], kind='mergesort')]
    dt = [dt[i] for i in np.argsort([-d['score'] for d in dt], kind='mergesort')][:MAX_DET]
    dt = [d for d in dt
          if d['height'] >= h_rng[0] / EXP_FILTER and d['height'] < h_rng[1] * EXP_FILTER]
    ious = overlap_matrix(dt, gt) if dt else []
    gt_ig = [g['ignore'] for g in gt]
    gt_m = [0] * len(gt)
    dt_m = [0] * len(dt)
    dt_ig = [0] * len(dt)
    if ious:
        for di, d in enumerate(dt):
            best_oa = min(IOU_THR, 1 - 1e-10)
            best_g, best_m = -2, -2
            for gi, g in enumerate(gt):
                if gt_m[gi] > 0:
                    continue
                if best_m != -2 and gt_ig[gi] == 1:
                    break
                if ious[di][gi] < best_oa:
                    continue
                best_oa = ious[di][gi]
                best_g = gi
                best_m = 1 if gt_ig[gi] == 0 else -1
            if best_g == -2:
                continue
            dt_ig[di] = gt_ig[best_g]
            dt_m[di] = gt[best_g]['id']
            if best_m == 1:
                gt_m[best_g] = d['id']
    return dict(scores=[d['score'] for d in dt], dt_m=dt_m, dt_ig=dt_ig, gt_ig=gt_ig)


def evaluate_setup(images, setup):
    """``(MR or -1, 9 recalls sampled, fppi list, recall list)`` of one setup."""
    h_rng, v_rng = SETUPS[setup]
    gts, dts, img_ids = to_json(images)
    for g in gts:  # _prepare
        if g['height'] < h_rng[0] or g['height'] > h_rng[1] or \
                g['vis_ratio'] < v_rng[0] or g['vis_ratio'] > v_rng[1]:
            g['ignore'] = 1
    per_img = []
    for img_id in img_ids:
        e = evaluate_image([g for g in gts if g['image_id'] == img_id],
                           [d for d in dts if d['image_id'] == img_id], h_rng)
        if e is not None:
            per_img.append(e)
    n_img = len(img_ids)
    if not per_img:
        return -1, None, [], []
    scores = [s for e in per_img for s in e['scores']]
    dt_m = [m for e in per_img for m in e['dt_m']]
    dt_ig = [m for e in per_img for m in e['dt_ig']]
    n_pos = sum(1 for e in per_img for g in e['gt_ig'] if g == 0)
    if n_pos == 0:
        return -1, None, [], []
    order = np.argsort(-np.array(scores, dtype=np.float64), kind='mergesort')
    tp_sum, fp_sum, tp, fp = [], [], 0, 0
    for k in order:
        if dt_ig[k]:
            continue
        if dt_m[k]:
            tp += 1
        else:
            fp += 1
        tp_sum.append(tp)
        fp_sum.append(fp)
    fppi = [f / n_img for f in fp_sum]
    recall = [t / n_pos for t in tp_sum]
    for i in range(len(recall) - 1, 0, -1):
        if recall[i] < recall[i - 1]:
            recall[i - 1] = recall[i]
    q = [0.0] * len(FPPI)
    idx = np.searchsorted(np.array(fppi, dtype=np.float64), FPPI, side='right') - 1
    try:
        for r, i in enumerate(idx):
            q[r] = recall[i]  # i == -1 reads the last recall, the script's quirk
    except IndexError:
        pass
    mrs = 1 - np.array(q)
    with np.errstate(divide='ignore'):
        mr = np.exp(np.mean(np.log(mrs[mrs < 2])))
    return float(mr), q, fppi, recall
