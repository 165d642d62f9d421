"""QGIS Processing algorithms: parameters in, one core call, outputs out. No numerics here."""
