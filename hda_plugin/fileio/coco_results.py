"""COCO-style detection results (a JSON array of ``image_id, category_id, bbox, score``)
as hda-ssd writes them for HDA frames."""

__all__ = ['coco_record']
def coco_record(cam: int, frame: int, file_name: str, box_xywh, score: float) -> dict:
    """One COCO-style result: ``image_id = camera * 100000 + frame`` (1-based frame)."""
    return dict(image_id=cam * 100000 + frame, file_name=file_name, camera=cam, frame=frame,
                category_id=1, bbox=box_xywh, score=score)
