"""`make demo` end to end on a small scene: the README's first command must keep working."""
import os
import subprocess
import sys

from helpers import ROOT


def test_demo_runs_and_deepsen3_beats_bicubic(qgis_process, plugin_parent, tmp_path):
    env = dict(qgis_process.env)      # a profile where the plugin is enabled
    env["PYTHONPATH"] = plugin_parent + os.pathsep + env.get("PYTHONPATH", "")
    out = tmp_path / "demo"
    completed = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "demo.py"), "--size", "96", "--steps",
                                "200", "--output", str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "DeepSen3 beats bicubic on PSNR and SAM" in completed.stdout
    assert (out / "quality_report.html").exists() and (out / "fused_deepsen3.tif").exists()
