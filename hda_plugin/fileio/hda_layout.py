"""The HDA release's naming rules, in one place: where things live under a release root
(``HDA_Dataset_V1.3/``) and what they are called.

Every other module asks this one: camera ids and names, the ``.seq`` video of a camera,
its vbb annotation files (two rules: the data set's, which prefers ``_rev1``, and the
benchmark's, which never reads it), the ``cameraNN`` folders of ``hda_detections``, frame
file names and the ``img_id`` of a frame.
"""
import os
import os.path as osp
import re
from typing import List, Mapping, Optional, Tuple, Union

__all__ = ['HDA_LAYOUT', 'HDA_CAMERAS', 'camera_id', 'camera_name', 'camera_dir_names',
           'seq_filename', 'frame_filename', 'hda_img_id', 'annotation_path',
           'benchmark_annotation_path', 'annotated_cameras', 'camera_of', 'sample_camera',
           'hda_frame_of', 'RELEASE_DETECTOR_FOLDERS']

_CAMERA_RE = re.compile(r'cam(?:era)?0*(\d+)', re.IGNORECASE)
#: what :func:`camera_id` accepts, case as :data:`_CAMERA_RE`: ``17``, ``cam17``, ``Camera17``
_CAMERA_ID_RE = re.compile(r'(?:cam(?:era)?)?(\d+)', re.IGNORECASE)
_IMG_ID_RE = re.compile(r'^cam(\d+)_(\d+)$')

#: Folders of a release, relative to its root. ``frames`` is written by
#: ``tools/dataset_converters/hda_seq_to_frames.py``.
HDA_LAYOUT = dict(
    seq='hda_image_sequences_matlab',  # cameraNN.seq
    ann='hda_annotations',  # camNN.txt, camNN_rev1.txt (vbb 1.4)
    frames='hda_frames',  # camNN/I00001.jpg ... (1-based vbb frame numbers)
    detections='hda_detections',  # <Detector>/cameraNN/Detections/allD.txt
)

#: The folders of ``hda_detections/`` the release ships: ground truth in ``allD.txt`` form
#: (what the benchmark scores against) and the ACF detector's rows. hda-ssd never writes a
#: detector folder of these names, even where a copy of the release lacks them.
RELEASE_DETECTOR_FOLDERS = ('GtAnnotationsAll', 'AcfInria')

#: The cameras of the release (``dbInfo('hda')``); the benchmark's pool leaves out 02
#: (:data:`hda_plugin.evaluation.protocols.HDA_BENCHMARK` ``excluded_cameras``).
HDA_CAMERAS = (2, 17, 18, 19, 40, 50, 53, 54, 56, 57, 58, 59, 60)


def camera_id(cam: Union[int, str]) -> int:
    """The camera number: ``17`` / ``'17'`` / ``'cam17'`` / ``'camera17'`` / ``'cam02'`` ->
    ``17`` / ``2``, in any case (``'Cam17'``, as :func:`camera_of` reads it). The one rule
    every camera argument goes through."""
    found = _CAMERA_ID_RE.fullmatch(str(cam))
    if not found:
        raise ValueError(f'Camera id {cam!r} is not a number such as 17 or "cam17".')
    return int(found.group(1))


def camera_name(cam: Union[int, str]) -> str:
    """``17`` / ``'camera17'`` -> ``'cam17'``; ``2`` -> ``'cam02'`` (annotation and frame
    folders, metric keys)."""
    return f'cam{camera_id(cam):02d}'


def camera_dir_names(cam: Union[int, str]) -> List[str]:
    """Folder names of a camera under ``hda_detections/<Detector>/``: ``camera17``; for
    one-digit ids both ``camera02`` (written) and ``camera2`` (dbEval builds ``'camera'
    int2str(2)``, also read)."""
    n = camera_id(cam)
    return [f'camera{n:02d}'] + ([f'camera{n}'] if n < 10 else [])


def seq_filename(cam: Union[int, str]) -> str:
    """``17`` -> ``'camera17.seq'`` (the release's video name)."""
    return f'camera{camera_id(cam):02d}.seq'


def frame_filename(frame: int, ext: str = 'jpg') -> str:
    """File name of a 1-based vbb frame number: frame N is the ``.seq``'s image N-1."""
    return f'I{frame:05d}.{ext}'


def hda_img_id(cam: Union[int, str], frame: int) -> str:
    """``img_id`` of an ``HDADataset`` frame: ``cam17_00001`` (camera, 1-based frame)."""
    return f'{camera_name(cam)}_{int(frame):05d}'


def _missing_annotation(cam, expected: str, ann_root: str, hint: str):
    have = sorted(os.listdir(ann_root)) if osp.isdir(ann_root) else []
    return FileNotFoundError(
        f'No annotation for {camera_name(cam)}: expected {expected}. Files in {ann_root}: '
        f'{have or "none (folder missing)"}. {hint}')


def annotation_path(root: str, cam: Union[int, str], prefer_rev1: bool = True,
                    ann_dir: str = HDA_LAYOUT['ann']) -> str:
    """The data set's rule: ``ann_dir/camNN_rev1.txt`` where it exists and ``prefer_rev1``,
    else ``camNN.txt``; a clear error listing the folder otherwise."""
    ann_root = osp.join(root, ann_dir)
    name = camera_name(cam)
    rev1, plain = osp.join(ann_root, f'{name}_rev1.txt'), osp.join(ann_root, f'{name}.txt')
    if prefer_rev1 and osp.isfile(rev1):
        return rev1
    if osp.isfile(plain):
        return plain
    raise _missing_annotation(cam, plain, ann_root, 'Check data_root and cameras=[...].')


def _benchmark_annotation_names(cam) -> List[str]:
    n = camera_id(cam)
    return [f'cam{n:02d}.txt'] + ([f'cam{n}.txt'] if n < 10 else [])


def benchmark_annotation_path(root: str, cam: Union[int, str]) -> str:
    """The benchmark's rule: ``hda_annotations/camNN.txt``, the file dbEval reads
    ``nFrame`` from (never ``_rev1``); ``cam2.txt`` also accepted for camera 02 (dbEval's
    ``int2str``)."""
    ann_root = osp.join(root, HDA_LAYOUT['ann'])
    names = _benchmark_annotation_names(cam)
    for name in names:
        if osp.isfile(osp.join(ann_root, name)):
            return osp.join(ann_root, name)
    raise _missing_annotation(
        cam, osp.join(ann_root, names[0]), ann_root,
        'The benchmark takes each camera\'s frame count (nFrame) from it. Check HDA_ROOT and '
        'the cameras.')


def annotated_cameras(root: str) -> List[int]:
    """The release's cameras (:data:`HDA_CAMERAS`) that have a benchmark annotation file."""
    ann_root = osp.join(root, HDA_LAYOUT['ann'])
    if not osp.isdir(ann_root):
        raise FileNotFoundError(f'{ann_root} does not exist: HDA_ROOT must hold '
                                f'{HDA_LAYOUT["ann"]}/.')
    have = set(os.listdir(ann_root))
    return [c for c in HDA_CAMERAS if any(n in have for n in _benchmark_annotation_names(c))]


def camera_of(path: str) -> str:
    """``'cam60'`` from a path such as ``.../hda_frames/cam60/I00001.jpg`` (``'all'`` when
    the path names no camera)."""
    found = _CAMERA_RE.findall(path or '')
    return camera_name(found[-1]) if found else 'all'


def sample_camera(sample: Mapping) -> str:
    """The camera of a data sample or data info: its own ``camera`` field (set by both
    datasets, carried by ``PackHDADetInputs``), else :func:`camera_of` its image path."""
    cam = sample.get('camera')
    return str(cam) if cam else camera_of(sample.get('img_path', ''))


def hda_frame_of(sample: Mapping) -> Tuple[int, int]:
    """``(camera, 1-based frame)`` of an HDADataset sample: its ``camera`` and ``frame``
    fields (carried by ``PackHDADetInputs``), else its ``img_id`` (:func:`hda_img_id`); a
    clear error for samples of other data sets."""
    cam, frame = sample.get('camera'), sample.get('frame')
    found: Optional[re.Match] = _CAMERA_RE.fullmatch(str(cam)) if cam else None
    if found and frame is not None:
        return camera_id(found.group(1)), int(frame)
    found = _IMG_ID_RE.match(str(sample.get('img_id', '')))
    if not found:
        raise ValueError(
            f'image {sample.get("img_path")!r} (img_id {sample.get("img_id")!r}) is not an '
            'HDADataset frame (img_id "cam17_00001"): the hda-benchmark protocol scores '
            'frames of an HDA release. Use CaltechMetric for other data.')
    return int(found.group(1)), int(found.group(2))
