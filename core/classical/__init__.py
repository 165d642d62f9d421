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
- ``MAX_PIXELS`` for whole-image methods: the largest common area (HR pixels) handled at once;
  beyond it a module may offer ``prepare_windowed``, ``predict_windowed`` and
  ``receptive_field_windowed``, the steps of a tiled method (the last gives the blocks'
  overlap), with which the area runs block by block (CNMF), and is refused otherwise (HySure).

Each module's docstring cites its paper and states its choices.
"""
