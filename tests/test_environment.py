"""PyTorch from the environment in the QGIS profile: it survives plugin upgrades and shadows nothing.

The plugin is copied, without any .venv, into a fresh plugins folder (what the Plugin Manager
leaves after an upgrade), and QGIS's own Python (not this virtual environment's) loads it with
a profile whose hyperfuse/venv provides torch through a link to this environment's site-packages.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest
import torch
from hyperfuse.core import environment
from hyperfuse.core.inference import torch_support

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_SITE_PACKAGES = os.path.dirname(os.path.dirname(torch.__file__))
# QGIS's Python: the interpreter this virtual environment was made from.
SYSTEM_PYTHON = os.path.join(sys.base_prefix, "bin", "python3")
VERSION = f"python{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture(scope="module")
def upgraded_plugin(tmp_path_factory):
    """A plugins folder holding a plain copy of the plugin, as after a Plugin Manager reinstall."""
    parent = tmp_path_factory.mktemp("plugins")
    shutil.copytree(ROOT, parent / "hyperfuse", ignore=shutil.ignore_patterns(
        ".venv", ".build", ".git", "demo_output", "bench_output", "__pycache__", ".pytest_cache", "tests"))
    assert not (parent / "hyperfuse" / ".venv").exists()
    return str(parent)


def _config_with_environment(folder) -> str:
    """A QGIS config folder whose default profile has hyperfuse/venv linked to this environment's packages."""
    venv_lib = folder / "profiles" / "default" / "hyperfuse" / "venv" / "lib" / VERSION
    venv_lib.mkdir(parents=True)
    os.symlink(TORCH_SITE_PACKAGES, venv_lib / "site-packages")
    return str(folder)


def _clean_env(home, config: str) -> dict:
    # No PYTHONPATH, HYPERFUSE_SITE_PACKAGES or activated virtual environment: they would lead to this checkout's
    # .venv.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYPERFUSE_SITE_PACKAGES", "VIRTUAL_ENV")}
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(venv))
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), QGIS_CUSTOM_CONFIG_PATH=config,
               XDG_RUNTIME_DIR=tempfile.mkdtemp(prefix="xdg-"))
    return env


PROBE = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {parent!r})
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    import hyperfuse
    plugin = hyperfuse.classFactory(None)
    import packaging, pygments, sympy, numpy, torch
    import torch.fx.experimental.symbolic_shapes  # needs sympy >= 1.13: fails with Debian 12's 1.11
    value = float(torch.nn.functional.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3)))
    files = {{m.__name__: m.__file__ for m in (hyperfuse, packaging, pygments, sympy, numpy, torch)}}
    print("PROBE", json.dumps({{"files": files, "sys_path": sys.path, "value": value}}))
""")


def test_upgraded_plugin_imports_torch_without_shadowing_system_packages(upgraded_plugin, tmp_path):
    config = _config_with_environment(tmp_path / "config")
    completed = subprocess.run([SYSTEM_PYTHON, "-c", PROBE.format(parent=upgraded_plugin)],
                               env=_clean_env(tmp_path, config), capture_output=True, text=True, timeout=300)
    line = next((x for x in completed.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, completed.stdout + completed.stderr
    probe = json.loads(line[len("PROBE "):])
    files, venv = probe["files"], os.path.join(config, "profiles", "default", "hyperfuse", "venv")
    assert files["hyperfuse"].startswith(upgraded_plugin)
    assert files["torch"].startswith(venv) and files["sympy"].startswith(venv)
    assert probe["value"] == 9.0
    # The environment holds newer packaging, pygments and numpy may be there too: QGIS keeps its own.
    for name in ("packaging", "pygments", "numpy"):
        assert files[name].startswith(("/usr/lib/python3/", "/usr/lib/python3.")), (name, files[name])
        assert not files[name].startswith(venv)
    site = os.path.join(venv, "lib", VERSION, "site-packages")
    assert probe["sys_path"].index(site) > probe["sys_path"].index("/usr/lib/python3/dist-packages")


def _qgis_process(env, *args):
    return subprocess.run(["qgis_process.bin", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=300)


def test_network_runs_after_upgrade_and_without_environment_says_where(upgraded_plugin, small_pair, tmp_path):
    run = ["run", "hyperfuse:fuse_deepsen3", "--", f"LR_HSI={small_pair['lr']}", f"HR_MSI={small_pair['ms']}",
           "MODEL=2", "TRAIN_STEPS=1"]
    for name, has_torch in (("with", True), ("without", False)):
        folder = tmp_path / name
        folder.mkdir()
        config = _config_with_environment(folder / "config") if has_torch else str(folder / "config")
        env = dict(_clean_env(folder, config), QGIS_PLUGINPATH=upgraded_plugin)
        _qgis_process(env, "plugins", "enable", "hyperfuse")
        completed = _qgis_process(env, *run, f"OUTPUT={folder / 'fused.tif'}")
        if has_torch:
            assert completed.returncode == 0, completed.stdout[-3000:]
            assert "MODEL_USED:\ttrained on the inputs" in completed.stdout
        else:
            assert completed.returncode != 0 and not (folder / "fused.tif").exists()
            assert "PyTorch is not installed" in completed.stdout, completed.stdout[-3000:]
            assert os.path.join(config, "profiles", "default", "hyperfuse", "venv") in completed.stdout
            assert torch_support.CPU_INDEX in completed.stdout


def test_install_message_names_the_folder_and_both_builds():
    folder = environment.environment_folder("/home/a/.local/share/QGIS/QGIS3/profiles/default/")
    assert folder == "/home/a/.local/share/QGIS/QGIS3/profiles/default/hyperfuse/venv"
    linux = torch_support.install_hint(folder, platform="linux")
    assert f'"{folder}/bin/pip" install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu' in linux
    assert f'-m venv --system-site-packages "{folder}"' in linux
    assert "leave out --index-url" in linux
    windows = torch_support.install_hint(r"C:\Users\a\AppData\Roaming\QGIS\QGIS3\profiles\default\hyperfuse\venv",
                                         platform="win32")
    assert "OSGeo4W Shell" in windows and r"venv\Scripts\pip" in windows
    assert "whl/cpu" in windows and "whl/cu" in windows
    assert "--index-url" not in torch_support.install_hint(folder, platform="darwin")


def _fake_distribution(folder, name, version, requires=(), top_level=None):
    info = folder / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    (info / "METADATA").write_text("\n".join(lines + [f"Requires-Dist: {r}" for r in requires]) + "\n")
    if top_level:
        (info / "top_level.txt").write_text(top_level + "\n")
    (info / "RECORD").write_text(f"{name}/__init__.py,,\n{info.name}/METADATA,,\n")
    (folder / name).mkdir()
    (folder / name / "__init__.py").write_text(f"WHERE = {str(folder)!r}\n")


def test_only_requirements_the_system_cannot_meet_come_from_the_environment(tmp_path):
    system, env = tmp_path / "system", tmp_path / "env"
    _fake_distribution(system, "oldpkg", "1.0")
    _fake_distribution(system, "goodpkg", "3.0")
    _fake_distribution(env, "torch", "9.0", ["oldpkg>=2", "goodpkg>=1", "extrapkg; extra == 'x'"], "torch")
    _fake_distribution(env, "oldpkg", "2.0", ["deeppkg>=5"])
    _fake_distribution(env, "goodpkg", "4.0")
    _fake_distribution(env, "deeppkg", "5.0")
    _fake_distribution(env, "extrapkg", "1.0")
    names = environment.routed_modules([str(env)], [str(system)])
    assert names == {"torch", "oldpkg", "deeppkg"}
    finder = environment.EnvironmentFinder(names, [str(env)])
    assert finder.find_spec("oldpkg").origin == str(env / "oldpkg" / "__init__.py")
    assert finder.find_spec("goodpkg") is None
    assert finder.find_spec("oldpkg.sub", path=[str(env / "oldpkg")]) is None


def test_environment_for_another_python_is_ignored(tmp_path):
    venv = tmp_path / "venv"
    (venv / "Lib" / "site-packages").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = C:\\Python\nversion = 2.7.18\n")
    assert environment.venv_site_packages(str(venv)) == []
    (venv / "pyvenv.cfg").write_text(f"version = {sys.version_info[0]}.{sys.version_info[1]}.0\n")
    assert environment.venv_site_packages(str(venv)) == [str(venv / "Lib" / "site-packages")]


LOADS_AHEAD = """
import sys, time
sys.path[:0] = [{fake!r}, {parent!r}]
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.inference import torch_support
torch_support.load_torch_ahead()
# Until the import ahead has registered the module object (or, on a machine too busy to see that, has ended).
while "torch" not in sys.modules and torch_support._import_ahead.is_alive():
    time.sleep(0.001)
try:
    torch = torch_support.require_torch()
    print("loaded", torch.ones(3).sum().item())
except UserInputError as error:
    print("refused", str(error).splitlines()[0])
"""


@pytest.mark.parametrize("broken", [False, True], ids=["torch", "a torch that fails to import"])
def test_torch_loaded_ahead_is_the_whole_module_or_the_install_hint(plugin_parent, tmp_path, broken):
    # require_torch waits for the import that load_torch_ahead started in a thread of its own, and is asked while
    # that import runs: a failed one must not hand back its half-made module.
    fake = tmp_path / "fake"
    if broken:
        (fake / "torch").mkdir(parents=True)
        (fake / "torch" / "__init__.py").write_text("import time\ntime.sleep(0.5)\nraise ImportError('no libtorch')\n")
    completed = subprocess.run([sys.executable, "-c", LOADS_AHEAD.format(fake=str(fake), parent=plugin_parent)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout
    expected = "refused PyTorch is not installed" if broken else "loaded 3.0"
    assert completed.stdout.strip().splitlines()[-1].startswith(expected), completed.stdout
