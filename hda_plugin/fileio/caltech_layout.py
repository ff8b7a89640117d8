"""The Caltech Pedestrian release's naming rules, in one place: where things live under a
release root (the folder holding ``set00/`` .. ``set10/`` and ``annotations/``) and what
they are called.

- videos ``setXX/VYYY.seq`` (Norpix, JPEG frames, 640x480, 30 fps);
- annotations ``annotations/setXX/VYYY.vbb`` (binary, ``vbbSave``) or ``VYYY.txt`` (text,
  ``vbbSaveTxt``), the ``.vbb`` preferred where both exist;
- splits: train set00-set05, test set06-set10;
- frames: 0-based indices into the ``.seq`` (the vbb's frame ``f`` is 1-based: index
  ``f - 1``). Dollár's ``dbEval.m``/``dbExtract.m`` take ``for f = skip-1:skip:nFrame-1``:
  the standard test images are every 30th frame from index 29 (4,024 images over
  set06-set10), "Caltech10x" training every 3rd from index 2;
- image ids ``set06_V000_I00029``: set, video and the **0-based** frame index, as the
  images ``dbExtract`` writes and Pedestron's ``test.json`` name them;
- the group of a frame in per-group metrics: ``set06/V000``.
"""
import os
import os.path as osp
import re
from typing import Iterable, List, Optional, Sequence, Tuple, Union

__all__ = ['CALTECH_SETS', 'CALTECH_SPLITS', 'CALTECH_IMAGE_SIZE', 'set_id', 'set_name',
           'video_id', 'video_name', 'seq_path', 'annotation_path', 'annotation_candidates',
           'list_videos', 'split_frames', 'caltech_img_id', 'parse_img_id', 'video_group',
           'split_preset']

#: set ids of the release (set00-set10).
CALTECH_SETS = tuple(range(11))
#: the standard splits: sets, frame step and first (0-based) frame.
CALTECH_SPLITS = {
    'train': dict(sets=tuple(range(6)), frame_step=3, first_frame=2),  # Caltech10x
    'test': dict(sets=tuple(range(6, 11)), frame_step=30, first_frame=29),  # 4,024 images
}
#: width, height of every Caltech frame.
CALTECH_IMAGE_SIZE = (640, 480)
ANN_DIR = 'annotations'

_SET_RE = re.compile(r'(?:set)?0*(\d+)', re.IGNORECASE)
_VIDEO_RE = re.compile(r'V?0*(\d+)(?:\.seq)?', re.IGNORECASE)
_IMG_ID_RE = re.compile(r'^set(\d{2})_V(\d{3})_I(\d{5})$')


def set_id(s: Union[int, str]) -> int:
    """``6`` / ``'6'`` / ``'set06'`` -> ``6``; an error for anything else."""
    found = _SET_RE.fullmatch(str(s))
    if not found:
        raise ValueError(f'Caltech set {s!r} is not a set id such as 6 or "set06".')
    return int(found.group(1))


def set_name(s: Union[int, str]) -> str:
    """``6`` -> ``'set06'``."""
    return f'set{set_id(s):02d}'


def video_id(v: Union[int, str]) -> int:
    """``0`` / ``'V000'`` / ``'V000.seq'`` -> ``0``."""
    found = _VIDEO_RE.fullmatch(str(v))
    if not found:
        raise ValueError(f'Caltech video {v!r} is not a video id such as 0 or "V000".')
    return int(found.group(1))


def video_name(v: Union[int, str]) -> str:
    """``0`` -> ``'V000'``."""
    return f'V{video_id(v):03d}'


def seq_path(root: str, s: Union[int, str], v: Union[int, str]) -> str:
    """``<root>/setXX/VYYY.seq``."""
    return osp.join(root, set_name(s), video_name(v) + '.seq')


def annotation_candidates(root: str, s: Union[int, str], v: Union[int, str]) -> List[str]:
    """The annotation files looked for, in order: ``annotations/setXX/VYYY.vbb``, then
    ``VYYY.txt``."""
    base = osp.join(root, ANN_DIR, set_name(s), video_name(v))
    return [base + '.vbb', base + '.txt']


def annotation_path(root: str, s: Union[int, str], v: Union[int, str]) -> Optional[str]:
    """The first of :func:`annotation_candidates` that exists, or None."""
    for p in annotation_candidates(root, s, v):
        if osp.isfile(p):
            return p
    return None


def list_videos(root: str, s: Union[int, str]) -> List[int]:
    """Video ids of ``<root>/setXX/*.seq``, sorted; ``[]`` when the folder is absent."""
    folder = osp.join(root, set_name(s))
    if not osp.isdir(folder):
        return []
    out = []
    for name in os.listdir(folder):
        found = re.fullmatch(r'V(\d{3})\.seq', name)
        if found:
            out.append(int(found.group(1)))
    return sorted(out)


def split_frames(n_frames: int, frame_step: int, first_frame: Optional[int] = None
                 ) -> range:
    """0-based frame indices kept of a video of ``n_frames``: ``range(first, n, step)``,
    ``first`` defaulting to ``step - 1`` (dbEval's ``skip-1:skip:nFrame-1``)."""
    if int(frame_step) < 1:
        raise ValueError(f'frame_step must be >= 1, got {frame_step}.')
    first = int(frame_step) - 1 if first_frame is None else int(first_frame)
    if first < 0:
        raise ValueError(f'first_frame must be >= 0 (0-based), got {first_frame}.')
    return range(first, int(n_frames), int(frame_step))


def caltech_img_id(s: Union[int, str], v: Union[int, str], frame: int) -> str:
    """``(6, 0, 29)`` -> ``'set06_V000_I00029'``: ``frame`` is the 0-based index."""
    return f'{set_name(s)}_{video_name(v)}_I{int(frame):05d}'


def parse_img_id(img_id: str) -> Tuple[int, int, int]:
    """``'set06_V000_I00029'`` -> ``(6, 0, 29)`` (0-based frame)."""
    found = _IMG_ID_RE.match(str(img_id))
    if not found:
        raise ValueError(f'{img_id!r} is not a Caltech image id such as set06_V000_I00029.')
    return tuple(int(g) for g in found.groups())


def video_group(s: Union[int, str], v: Union[int, str]) -> str:
    """``(6, 0)`` -> ``'set06/V000'``, the group of per-video metrics and summaries."""
    return f'{set_name(s)}/{video_name(v)}'


def split_preset(split: Optional[str], sets: Optional[Iterable] = None,
                 frame_step: Optional[int] = None, first_frame: Optional[int] = None
                 ) -> Tuple[List[int], int, Optional[int]]:
    """Sets, frame step and first frame of ``split`` ('train', 'test' or None), each
    replaced by the explicit argument when given."""
    if split is not None and split not in CALTECH_SPLITS:
        raise ValueError(f'Unknown Caltech split {split!r}: expected one of '
                         f'{list(CALTECH_SPLITS)} or None (then give sets).')
    preset = CALTECH_SPLITS.get(split, {})
    chosen: Sequence = sets if sets is not None else preset.get('sets')
    if chosen is None:
        raise ValueError('Caltech: give split="train"/"test" or the sets, e.g. sets=[6, 7].')
    step = frame_step if frame_step is not None else preset.get('frame_step', 1)
    if first_frame is None and frame_step is None:
        first_frame = preset.get('first_frame')
    return [set_id(s) for s in chosen], int(step), first_frame
