"""Where things live in an HDA release root (``HDA_Dataset_V1.3/``), and their names."""
import re
from typing import Mapping, Tuple, Union

__all__ = ['HDA_LAYOUT', 'HDA_CAMERAS', 'BENCHMARK_EXCLUDED_CAMERAS', 'camera_name',
           'frame_filename', 'seq_filename', 'camera_of', 'sample_camera', 'hda_frame_of']

_CAMERA_RE = re.compile(r'cam(?:era)?0*(\d+)', re.IGNORECASE)
_IMG_ID_RE = re.compile(r'^cam(\d+)_(\d+)$')

#: Folders of a release, relative to its root. ``frames`` is written by
#: ``tools/dataset_converters/hda_seq_to_frames.py``.
HDA_LAYOUT = dict(
    seq='hda_image_sequences_matlab',  # cameraNN.seq
    ann='hda_annotations',  # camNN.txt, camNN_rev1.txt (vbb 1.4)
    frames='hda_frames',  # camNN/I00001.jpg ... (1-based vbb frame numbers)
    detections='hda_detections',  # <Detector>/cameraNN/Detections/allD.txt
)

#: The cameras of the release (``dbInfo('hda')``); the benchmark's pool leaves out 02
#: (``dbInfo('hdawithout2a')``: "HDA minus seq02, for which the detector fails").
HDA_CAMERAS = (2, 17, 18, 19, 40, 50, 53, 54, 56, 57, 58, 59, 60)
BENCHMARK_EXCLUDED_CAMERAS = (2, )


def camera_name(cam: Union[int, str]) -> str:
    """``17`` / ``'17'`` / ``'cam17'`` / ``'camera17'`` -> ``'cam17'``; ``2`` -> ``'cam02'``."""
    s = str(cam)
    for p in ('camera', 'cam'):
        if s.startswith(p):
            s = s[len(p):]
            break
    if not s.isdigit():
        raise ValueError(f'Camera id {cam!r} is not a number such as 17 or "cam17".')
    return f'cam{int(s):02d}'


def seq_filename(cam: Union[int, str]) -> str:
    """``17`` -> ``'camera17.seq'`` (the release's video name)."""
    return 'camera' + camera_name(cam)[3:] + '.seq'


def frame_filename(frame: int, ext: str = 'jpg') -> str:
    """File name of a 1-based vbb frame number: frame N is the ``.seq``'s image N-1."""
    return f'I{frame:05d}.{ext}'


def camera_of(path: str) -> str:
    """``'cam60'`` from a path such as ``.../hda_frames/cam60/I00001.jpg`` (``'all'`` when
    the path names no camera)."""
    found = _CAMERA_RE.findall(path or '')
    return f'cam{int(found[-1]):02d}' if found else 'all'


def sample_camera(sample: Mapping) -> str:
    """The camera of a data sample or data info: its own ``camera`` field (set by both
    datasets, carried by ``PackHDADetInputs``), else :func:`camera_of` its image path."""
    cam = sample.get('camera')
    return str(cam) if cam else camera_of(sample.get('img_path', ''))


def hda_frame_of(sample: Mapping) -> Tuple[int, int]:
    """``(camera, 1-based frame)`` of an HDADataset sample: its ``camera`` and ``frame``
    fields (carried by ``PackHDADetInputs``), else its ``img_id`` (``cam17_00001``); a clear
    error for samples of other data sets."""
    cam, frame = sample.get('camera'), sample.get('frame')
    if cam and frame is not None and _CAMERA_RE.fullmatch(str(cam)):
        return int(_CAMERA_RE.fullmatch(str(cam)).group(1)), int(frame)
    found = _IMG_ID_RE.match(str(sample.get('img_id', '')))
    if not found:
        raise ValueError(
            f'image {sample.get("img_path")!r} (img_id {sample.get("img_id")!r}) is not an '
            'HDADataset frame (img_id "cam17_00001"): the hda-benchmark protocol scores '
            'frames of an HDA release. Use MissRateMetric(protocol="caltech") for other data.')
    return int(found.group(1)), int(found.group(2))
