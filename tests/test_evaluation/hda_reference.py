"""An independent transcription of the HDA benchmark's evaluation, statement by statement,
as plain loops: dbEval.m (loadGt, loadDt, evalAlgs, plotExps' score), dbInfo.m and the
toolbox's bbGt.m (evalRes, compRoc, compOa) and bbApply.m (resize), at
vislab-tecnico-lisboa/hda_code HEAD 85e1bdb. Shares no code with hda_plugin: it reads the
files with the csv module and the frame count with a regular expression.

Also Dollár's original per-setting ground-truth filter (filterGtFun) for the caltech
protocol tests.
"""
import csv
import math
import os.path as osp
import re

INF = float('inf')
SAMPLES_MR2 = [10 ** (-2 + 0.25 * k) for k in range(9)]  # 10.^(-2:.25:0)
SAMPLES_MR4 = [10 ** (-4 + 0.25 * k) for k in range(17)]


def bb_resize(bb, hr, wr, ar):
    """bbApply('resize', bb, hr, wr, ar) for hr ~= 0, wr == 0 (rows x y w h ...)."""
    out = []
    for row in bb:
        x, y, w, h = row[:4]
        d = (hr - 1) * h
        y, h = y - d / 2, h + d
        d = h * ar - w
        x, w = x - d / 2, w + d
        out.append([x, y, w, h] + list(row[4:]))
    return out


def comp_oa(dt, gt, ig):
    """bbGt>compOa."""
    w = min(dt[2] + dt[0], gt[2] + gt[0]) - max(dt[0], gt[0])
    if w <= 0:
        return 0.0
    h = min(dt[3] + dt[1], gt[3] + gt[1]) - max(dt[1], gt[1])
    if h <= 0:
        return 0.0
    i = w * h
    if ig:
        u = dt[2] * dt[3]
    else:
        u = dt[2] * dt[3] + gt[2] * gt[3] - i
    return i / u


def eval_res(gt0, dt0, thr=0.5):
    """bbGt>evalRes, one image: gt0 rows [x y w h ignore], dt0 rows [x y w h score]."""
    dt0 = sorted(dt0, key=lambda r: -r[4])  # sort(...,'descend'): MATLAB's sort is stable
    gt0 = sorted(gt0, key=lambda r: r[4])
    gt = [list(r[:4]) + [-r[4]] for r in gt0]
    dt = [list(r) + [0] for r in dt0]
    for d in range(len(dt)):
        bst_oa, bstg, bstm = thr, -1, 0
        for g in range(len(gt)):
            m = gt[g][4]
            if m == 1:
                continue
            if bstm != 0 and m == -1:
                break
            oa = comp_oa(dt[d][:4], gt[g][:4], m == -1)
            if oa < bst_oa:
                continue
            bst_oa, bstg = oa, g
            bstm = 1 if m == 0 else -1
        g, m = bstg, bstm
        if m == -1:
            dt[d][5] = m
        if m == 1:
            gt[g][4] = m
            dt[d][5] = m
    return gt, dt


def comp_roc(gts, dts, ref):
    """bbGt>compRoc with roc=1: detection rate at each reference FPPI."""
    n_img = len(gts)
    gt = [r for g in gts for r in g if r[4] != -1]
    dt = [r for d in dts for r in d if r[5] != -1]
    if not dt:
        return [0.0 for _ in ref]
    n_p = len(gt)
    dt = sorted(dt, key=lambda r: -r[4])
    fp = tp = 0
    xs1, ys1 = [-INF], [0.0]
    for r in dt:
        fp += 1 if r[5] != 1 else 0
        tp += r[5]
        xs1.append(fp / n_img)
        ys1.append(tp / n_p if n_p else math.nan)
    out = []
    for x in ref:
        j = max(i for i in range(len(xs1)) if xs1[i] <= x)
        out.append(ys1[j])
    return out


def log_average(miss):
    """plotExps: score = exp(mean(log(1 - ref)))."""
    if any(math.isnan(m) for m in miss):
        return math.nan
    if any(m <= 0 for m in miss):
        return 0.0
    return math.exp(sum(math.log(m) for m in miss) / len(miss))


def n_frame(root, cam):
    text = open(osp.join(root, 'hda_annotations', f'cam{cam:02d}.txt')).read()
    return int(re.search(r'nFrame=(\d+)', text).group(1))


def dlmread(path):
    with open(path) as f:
        return [[float(v) for v in row] for row in csv.reader(f) if row]


def db_eval(root, alg, set_ids, gt_name='GtAnnotationsAll', det_filter=True, resize=True,
            gt_rows=None):
    """dbEval for one algorithm and one dataName (the cameras ``set_ids``), exps(1).

    ``det_filter`` / ``resize`` switch the 40 px detection filter and the 0.41 resize off,
    for the tests that show each rule matters. ``gt_rows`` replaces the ground-truth files
    (``{cam: [[camera, frame, x, y, w, h, score], ...]}``)."""
    aspect = .41
    hr = [50 * (1 / 1.25), INF * 1.25]
    gts, dts = [], []
    for s1 in set_ids:
        nf = n_frame(root, s1)
        a = gt_rows[s1] if gt_rows is not None else dlmread(
            osp.join(root, 'hda_detections', gt_name, f'camera{s1:02d}', 'Detections',
                     'allD.txt'))
        bbs = [r[1:-1] + [0] for r in a]  # [A(:,2:end-1) zeros]
        for f in range(0, nf):
            bb = [r[1:6] for r in bbs if r[0] == f + 1]
            gts.append(bb_resize(bb, 1, 0, aspect) if resize else bb)
        a = dlmread(osp.join(root, 'hda_detections', alg, f'camera{s1:02d}', 'Detections',
                             'allD.txt'))
        bbs = [r[1:] for r in a]
        for f in range(0, nf):
            bb = [r[1:6] for r in bbs if r[0] == f + 1]
            dts.append(bb_resize(bb, 1, 0, aspect) if resize else bb)
    if det_filter:
        dts = [[b for b in bb if hr[0] <= b[3] < hr[1]] for bb in dts]
    gtr, dtr = [], []
    for g, d in zip(gts, dts):
        a, b = eval_res(g, d, .5)
        gtr.append(a)
        dtr.append(b)
    ref = comp_roc(gtr, dtr, SAMPLES_MR2)
    return log_average([1 - r for r in ref])


def filter_gt(is_person, bb, vis, hr, vr, ar, aspect=.41):
    """dbEval>loadGt>filterGtFun on one box [x y w h]: True if regular (p), else ignore.
    ``vis`` is the visible fraction (inf when posv is not set)."""
    p = is_person
    h = bb[3]
    p = p and (hr[0] <= h < hr[1])
    p = p and vis >= vr[0] and vis <= vr[1]
    if ar != 0:
        p = p and (math.copysign(1, ar) * abs(bb[2] / bb[3] - aspect) < ar)
    return p
