"""Write HyperFuse's spectral-response preset files from the agencies' tables.

Sources, read from the packages' source distributions (the plugin reads only the CSVs it
writes, so neither package is a run-time dependency; pyrsr needs numpy 2, Py6S needs 6S):
- pyrsr (Apache-2.0): ESA's Sentinel-2 and NASA's Landsat 8/9 relative spectral responses;
- Py6S (LGPL): ESA's Sentinel-3 OLCI spectral response functions, sampled every 2.5 nm.
Each CSV is written on a common 1 nm grid with its source named in the header.

    python3 -m pip download --no-deps --no-binary :all: pyrsr==0.8.0 Py6S==1.9.2 -d /tmp/srf
    python3 tools/convert_srf.py /tmp/srf/pyrsr-0.8.0.tar.gz /tmp/srf/Py6S-1.9.2.tar.gz
"""
from __future__ import annotations

import ast
import io
import sys
import tarfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "core" / "protocol" / "srf_data"
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


OLCI = {"sentinel3a_olci.csv": "S3A_OLCI", "sentinel3b_olci.csv": "S3B_OLCI"}


def _write_csv(out_name: str, title: str, source: str, tables: dict) -> None:
    low = int(np.floor(min(w.min() for w, _ in tables.values())))
    high = int(np.ceil(max(w.max() for w, _ in tables.values())))
    grid = np.arange(low, high + 1, dtype=float)
    columns = [np.interp(grid, w, r, left=0.0, right=0.0) for w, r in tables.values()]
    buffer = io.StringIO()
    buffer.write(f"# Relative spectral response of {title}, resampled to 1 nm.\n")
    buffer.write(f"# Source: {source}\n")
    buffer.write("wavelength_nm," + ",".join(tables) + "\n")
    for i, wl in enumerate(grid):
        buffer.write(f"{wl:.0f}," + ",".join(f"{c[i]:.5g}" for c in columns) + "\n")
    (OUT / out_name).write_text(buffer.getvalue())
    print(f"wrote {OUT / out_name}: {len(tables)} bands, {low}-{high} nm")


def convert_olci(sdist: str) -> None:
    """OLCI tables from Py6S's Params/wavelength.py: (id, start µm, end µm, values every 2.5 nm)."""
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("Py6S/Params/wavelength.py"))
        tree = ast.parse(tar.extractfile(member).read().decode())
    version = Path(sdist).name.replace(".tar.gz", "")
    for out_name, prefix in OLCI.items():
        tables = {}
        for node in ast.walk(tree):
            name = getattr(node.targets[0], "id", "") if isinstance(node, ast.Assign) else ""
            if name.startswith(prefix + "_"):
                _, start, end, values = node.value.elts
                response = np.clip(np.array(ast.literal_eval(values.args[0]), dtype=float), 0, None)
                wavelength = np.linspace(ast.literal_eval(start), ast.literal_eval(end), response.size) * 1000.0
                tables[f"Oa{int(name.rsplit('_', 1)[1]):02d}"] = (wavelength, response)
        tables = dict(sorted(tables.items()))
        _write_csv(out_name, prefix.replace("_", " "), f"{version} (LGPL), Py6S/Params/wavelength.py {prefix}_*; "
                   "ESA Sentinel-3 OLCI spectral response function data", tables)


def convert_pyrsr(sdist: str) -> None:
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/pyrsr/data/", 1)[-1]: m for m in tar.getmembers() if "/pyrsr/data/" in m.name}
        version = Path(sdist).name.replace(".tar.gz", "")
        for out_name, (folder, bands) in SENSORS.items():
            tables = {name: _read_table(tar.extractfile(members[f"{folder}/{file}"]).read().decode())
                      for name, file in bands}
            reference = tar.extractfile(members[f"{folder}/reference"]).read().decode().strip().splitlines()
            source = f"{version} (Apache-2.0), pyrsr/data/{folder}; " + "; ".join(line.strip() for line in reference)
            _write_csv(out_name, folder, source, tables)


if __name__ == "__main__":
    convert_pyrsr(sys.argv[1])
    convert_olci(sys.argv[2])
