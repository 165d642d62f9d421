"""Quality assessment of fused rasters against a reference and without one (QNR), with the
per-band tables, the SAM map and the HTML report.
"""
