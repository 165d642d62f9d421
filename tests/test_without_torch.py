"""The plugin loads without torch, and the network algorithms then say how to install it."""
import subprocess
import sys
import textwrap

from helpers import PROVIDER_ALGORITHMS

SCRIPT = textwrap.dedent("""
    import sys
    sys.modules["torch"] = None          # `import torch` now raises ImportError
    sys.path.insert(0, {parent!r})
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication, QgsProcessingException
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing
    Processing.initialize()
    from hyperfuse import classFactory
    plugin = classFactory(None)
    plugin.initProcessing()
    provider = QgsApplication.processingRegistry().providerById("hyperfuse")
    print("ALGORITHMS", " ".join(sorted(a.id() for a in provider.algorithms())))
    import processing
    try:
        processing.run("hyperfuse:fuse_deepsen3", {{"LR_HSI": {lr!r}, "HR_MSI": {ms!r}, "MODEL": 2,
                                                   "TRAIN_STEPS": 1, "OUTPUT": {out!r}}})
    except QgsProcessingException as exc:
        print("ERROR", exc)
""")


def test_provider_loads_and_fusion_explains_install(plugin_parent, small_pair, tmp_path):
    script = SCRIPT.format(parent=plugin_parent, lr=small_pair["lr"], ms=small_pair["ms"], out=str(tmp_path / "o.tif"))
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    completed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    listed = next((line.split()[1:] for line in completed.stdout.splitlines() if line.startswith("ALGORITHMS")), [])
    assert listed == sorted(PROVIDER_ALGORITHMS), completed.stdout + completed.stderr
    assert "ERROR PyTorch is not installed" in completed.stdout
    assert "pip\" install torch" in completed.stdout
    assert not (tmp_path / "o.tif").exists()
