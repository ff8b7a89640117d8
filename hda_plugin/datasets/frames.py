"""Frame extraction from the release's ``.seq`` videos into the layout HDADataset reads."""
import os
import os.path as osp
from typing import Optional, Sequence

from ..fileio.atomic import write_atomic
from ..fileio.hda_layout import HDA_LAYOUT, camera_name, frame_filename, seq_filename
from ..fileio.seq import SeqFormatError, SeqReader
from ..utils.table import format_table

__all__ = ['extract_camera', 'extract_release', 'find_cameras']

_MAGIC = {'jpg': b'\xff\xd8', 'png': b'\x89PNG'}
# The end of a complete image: JPEG's EOI marker, PNG's IEND chunk (a few bytes of padding
# after it are tolerated).
_END = {'jpg': (b'\xff\xd9', 32), 'png': (b'IEND', 16)}



def find_cameras(root: str) -> list:
    """Camera ids of the ``cameraNN.seq`` files under ``root/hda_image_sequences_matlab``."""
    seq_dir = osp.join(root, HDA_LAYOUT['seq'])
    if not osp.isdir(seq_dir):
        raise FileNotFoundError(f'{seq_dir} does not exist: is {root} an HDA release root?')
    return sorted(int(n[6:-4]) for n in os.listdir(seq_dir)
                  if n.startswith('camera') and n.endswith('.seq') and n[6:-4].isdigit())


def extract_camera(root: str, cam, progress: bool = True) -> dict:
    """Writes every frame of ``cameraNN.seq`` to ``hda_frames/camNN/I<frame>.<ext>``.

    Compressed frames are written byte for byte (no re-encoding); raw frames as PNG.
    On a truncated or corrupt video the complete frames before the defect are written
    first, then :class:`SeqFormatError` is raised naming the frame and byte offset. A
    frame whose own header gives another size than the ``.seq`` header is such a defect
    (:meth:`~hda_plugin.fileio.seq.SeqReader.frame_problem`): it would be decoded at its
    claimed size by every later reader.

    Returns:
        dict: ``frames`` written, ``declared`` in the header, ``codec``, ``size``, ``padding``.
    """
    import cv2
    path = osp.join(root, HDA_LAYOUT['seq'], seq_filename(cam))
    out_dir = osp.join(root, HDA_LAYOUT['frames'], camera_name(cam))
    os.makedirs(out_dir, exist_ok=True)
    with SeqReader(path, strict=False) as reader:
        ext = 'png' if reader.codec == 'raw' else reader.codec
        frames = range(len(reader))
        if progress:
            from tqdm import tqdm
            frames = tqdm(frames, desc=f'{camera_name(cam)} frames', unit='frame', leave=False)
        for i in frames:
            dst = osp.join(out_dir, frame_filename(i + 1, ext))
            if reader.codec == 'raw':
                ok, enc = cv2.imencode('.png', reader.read(i))
                write_atomic(enc.tobytes(), dst)
                continue
            data = reader.read_encoded(i)
            end, within = _END[ext]
            problem = (f'does not start with the {ext.upper()} signature'
                       if not data.startswith(_MAGIC[ext]) else
                       f'is cut: its {len(data)} bytes do not end with the {ext.upper()} end '
                       'marker' if end not in data[-within:] else None)
            size_problem = None if problem else reader.frame_problem(data)
            if size_problem:
                problem = f'is refused: {size_problem}'
            if problem:
                raise SeqFormatError(
                    f'{path}: frame {i} (0-based) at byte offset {reader.seek_table[i][0]} '
                    f'{problem}. Frames 0..{i - 1} were written to {out_dir}. The video is '
                    'corrupt; re-copy it from the release.')
            write_atomic(data, dst)
        if reader.truncated_at is not None:
            raise SeqFormatError(reader.truncation_reason +
                                 f' Frames 0..{len(reader) - 1} were written to {out_dir}.')
        return dict(frames=len(reader), declared=reader.num_frames, codec=reader.codec,
                    size=f'{reader.width}x{reader.height}', padding=getattr(reader, 'padding', 0),
                    out_dir=out_dir)


def extract_release(root: str, cameras: Optional[Sequence] = None, progress: bool = True) -> dict:
    """Extracts the frames of ``cameras`` (default: every ``.seq`` found) and prints a summary."""
    cams = list(cameras) if cameras else find_cameras(root)
    results = {}
    for cam in cams:
        results[camera_name(cam)] = extract_camera(root, cam, progress=progress)
    if progress:
        print('\n'.join(format_table(
            ('camera', 'codec', 'size', 'padding', 'frames', 'folder'),
            [(cam, r['codec'], r['size'], r['padding'], r['frames'], r['out_dir'])
             for cam, r in results.items()], align='lrrrrl', indent='')))
    return results
