"""Raster input and output through GDAL, and writing files so that nothing half-written is
left behind and no output ever lands on an input.
"""
