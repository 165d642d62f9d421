"""Classical HS/MS fusion methods (NumPy/SciPy, no torch): bicubic, GSA, MTF-GLP-HS / SFIM-HS,
CNMF and HySure. Their registry entries (name, paper, settings) are in core/registry.py,
beside the networks; :mod:`.run` runs them on two rasters.

Each method module provides:

- ``predict(lr, lr_valid, hr, hr_valid, ratio, **settings)`` → fused (S, r·h, r·w) float32
  for the usable bands of an aligned pair (arrays as core.storage.raster_io.read_block returns
  them; invalid pixels may hold anything);
- ``receptive_field(ratio, **settings)`` for tiled methods (the registry's ``tiled``): the
  neighbourhood in HR pixels a result pixel depends on, given the global settings from the
  optional ``prepare(lr, lr_valid, hr, hr_valid, ratio, **settings) -> dict`` (computed once
  on the estimation window of core/protocol/responses.py and merged into the settings);
- ``MAX_PIXELS`` for whole-image methods: the largest common area (HR pixels) ``predict``
  handles at once; :mod:`.run` fuses a larger area in overlapping blocks, each by ``predict``
  with the area's settings (:func:`.common.shared_block_settings`).

Each module's docstring cites its paper and states its choices.
"""
