"""QGIS-free engine of HyperFuse: raster IO, grids, degradation, metrics, tiling, training.

Nothing in this package imports ``qgis``; torch is imported only by the modules that run
networks, and only when they are called (see :mod:`hyperfuse.core.inference.torch_support`).
"""
