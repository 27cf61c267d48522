"""Export classifiers for serving: TF Serving SavedModels and TFLite files.

- `export(model, export_dir, version=1)`: `export_dir/<version>/` in TF
  Serving's layout, with `serving_default` (float32 images),
  `serving_uint8` and `serving_bytes` (encoded JPEG / PNG / GIF / BMP /
  WebP) signatures that return the probabilities, the top-k classes and the
  attention map.
- `to_tflite(model, path)`: the same outputs as a LiteRT (TFLite) file.

The subpackage is callable: `lficam_tf.export(model, export_dir)` is
`lficam_tf.export.export(model, export_dir)`.

See docs/serving.md for the layout, `saved_model_cli`, `docker run
tensorflow/serving`, REST / gRPC requests and TFLite.
"""

from lficam_tf.api_export import make_module_callable
from lficam_tf.export.saved_model import export
from lficam_tf.export.tflite import to_tflite

__all__ = ["export", "to_tflite"]

make_module_callable(__name__, export)
