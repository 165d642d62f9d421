"""Write HyperFuse's spectral-response preset files from the pyrsr package's data.

pyrsr (Apache-2.0, https://git.gfz-potsdam.de/EnMAP/sensorspecific/pyrsr) ships the
agencies' relative spectral response tables (ESA for Sentinel-2, NASA for Landsat). This
script reads those tables from a pyrsr source distribution and writes one CSV per sensor
into core/srf_data/ on a common 1 nm grid, with the source named in the header. The plugin
reads only the CSVs, so pyrsr (which needs numpy 2) is not a run-time dependency.

    python3 -m pip download --no-deps --no-binary :all: pyrsr==0.8.0 -d /tmp/pyrsr
    python3 tools/convert_srf.py /tmp/pyrsr/pyrsr-0.8.0.tar.gz
"""
from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "core" / "srf_data"
# output file -> (pyrsr folder, [(our band name, pyrsr file)])
SENSORS = {
    "sentinel2a_msi.csv": ("Sentinel-2A/MSI", [(f"B{b}", f"band_{b}") for b in
                                              ("1", "2", "3", "4", "5", "6", "7", "8", "8A", "9", "10", "11", "12")]),
    "sentinel2b_msi.csv": ("Sentinel-2B/MSI", [(f"B{b}", f"band_{b}") for b in
                                              ("1", "2", "3", "4", "5", "6", "7", "8", "8A", "9", "10", "11", "12")]),
    "landsat8_oli.csv": ("Landsat-8/OLI_TIRS", [(f"B{b}", f"band_{b}") for b in range(1, 10)]),
    "landsat9_oli.csv": ("Landsat-9/OLI_TIRS", [(f"B{b}", f"band_{b}") for b in range(1, 10)]),
}


def _read_table(text: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [line.split() for line in text.splitlines()[1:] if line.strip()]
    data = np.array([[float(a), float(b)] for a, b in rows])
    wavelength = data[:, 0] * (1000.0 if data[:, 0].max() < 100 else 1.0)  # micrometres in some tables
    return wavelength, np.clip(data[:, 1], 0, None)


def main(sdist: str) -> None:
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/pyrsr/data/", 1)[-1]: m for m in tar.getmembers() if "/pyrsr/data/" in m.name}
        version = Path(sdist).name.replace(".tar.gz", "")
        for out_name, (folder, bands) in SENSORS.items():
            tables = {name: _read_table(tar.extractfile(members[f"{folder}/{file}"]).read().decode())
                      for name, file in bands}
            reference = tar.extractfile(members[f"{folder}/reference"]).read().decode().strip().splitlines()
            low = int(np.floor(min(w.min() for w, _ in tables.values())))
            high = int(np.ceil(max(w.max() for w, _ in tables.values())))
            grid = np.arange(low, high + 1, dtype=float)
            columns = [np.interp(grid, w, r, left=0.0, right=0.0) for w, r in tables.values()]
            buffer = io.StringIO()
            buffer.write(f"# Relative spectral response of {folder}, resampled to 1 nm.\n")
            buffer.write(f"# Source: {version} (Apache-2.0), pyrsr/data/{folder}; ")
            buffer.write("; ".join(line.strip() for line in reference) + "\n")
            buffer.write("wavelength_nm," + ",".join(tables) + "\n")
            for i, wl in enumerate(grid):
                buffer.write(f"{wl:.0f}," + ",".join(f"{c[i]:.5g}" for c in columns) + "\n")
            (OUT / out_name).write_text(buffer.getvalue())
            print(f"wrote {OUT / out_name}: {len(tables)} bands, {low}-{high} nm")


if __name__ == "__main__":
    main(sys.argv[1])
