"""``LoadImageFast``: MMCV's ``LoadImageFromFile`` with libjpeg-turbo decoding
(:mod:`hda_plugin.fileio.jpeg`), for extracted frames and for TFRecord images alike (the
``tfrecord://`` file backend hands it the record's ``image/encoded`` bytes).

With ``defer_decode=True`` a JPEG is not decoded here: its bytes and header size go on to
``SSDRandomCropResize``, which decodes it at 1/2, 1/4 or 1/8 of its size in the DCT domain
when the crop is downscaled at least that much anyway.
"""
import mmengine.fileio as fileio
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS

from ...fileio.jpeg import decode_bgr, image_shape

__all__ = ['LoadImageFast']


@TRANSFORMS.register_module()
class LoadImageFast(LoadImageFromFile):
    """``LoadImageFromFile`` (same arguments; colour BGR images) with a faster JPEG decoder.

    Args:
        defer_decode (bool): keep a JPEG's bytes in ``results['img_bytes']`` (and its size in
            ``img_shape`` / ``ori_shape``) for ``SSDRandomCropResize`` to decode. Defaults to
            False.
    """

    def __init__(self, defer_decode: bool = False, **kwargs):
        super().__init__(**kwargs)
        if self.color_type != 'color':
            raise ValueError(f'LoadImageFast decodes colour images; color_type='
                             f'{self.color_type!r}: use LoadImageFromFile.')
        self.defer_decode = defer_decode

    def transform(self, results: dict) -> dict:
        filename = results['img_path']
        try:
            data = fileio.get(filename, backend_args=self.backend_args)
            shape = image_shape(data) if self.defer_decode else None
            img = None if shape else decode_bgr(data, name=str(filename))
        except Exception:
            if self.ignore_empty:
                return None
            raise
        if shape is not None:
            results['img_bytes'] = data
            results['img_shape'] = results['ori_shape'] = shape
            return results
        if self.to_float32:
            img = img.astype('float32')
        results['img'] = img
        results['img_shape'] = results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, defer_decode={self.defer_decode})'
