"""Write weights/index.json, the static metadata MODEL = auto matches against, from the bundled files' cards.

`make weights` (tools/make_weights.py) calls :func:`write_index` after training; run it alone
to regenerate the index for the files already there, without retraining:

    python tools/bundled_index.py [folder]
"""
from __future__ import annotations

import glob
import json
import os
import sys


def index_entry(path: str) -> dict:
    """What matching needs about one weights file, from its (validated) card, and the file's SHA-256."""
    from hyperfuse.core.inference import bundled, weights

    _, card = weights.load_weights(path)
    name, method = os.path.basename(path), card["method"]
    prefix = f"{method}_"
    return {
        "file": name,
        "method": method,
        "preset": name[len(prefix):-len(".pt")] if name.startswith(prefix) else None,
        "hs_bands": card["hs_bands"],
        "ms_bands": card["ms_bands"],
        "ratio": card["ratio"],
        "hs_wavelengths_nm": card.get("hs_wavelengths_nm"),
        "ms_wavelengths_nm": card.get("ms_wavelengths_nm"),
        "sha256": bundled.file_sha256(path),
        **({"generic": True} if weights.is_generic(card) else {}),
    }


def write_index(folder: str | None = None) -> str:
    """Index every ``*.pt`` in ``folder`` (default weights/), sorted by file name; returns the index path."""
    from hyperfuse.core.inference import bundled
    from hyperfuse.core.storage.files import write_text

    folder = folder or bundled.BUNDLED_DIR
    entries = [index_entry(path) for path in sorted(glob.glob(os.path.join(folder, "*.pt")))]
    # One entry per line: valid JSON that still diffs file by file.
    lines = ",\n".join(f"  {json.dumps(entry)}" for entry in entries)
    path = os.path.join(folder, bundled.INDEX_NAME)
    write_text(path, f'{{"format": "{bundled.INDEX_FORMAT}",\n "models": [\n{lines}\n ]}}\n')
    return path


if __name__ == "__main__":
    print(f"wrote {write_index(sys.argv[1] if len(sys.argv) > 1 else None)}")
