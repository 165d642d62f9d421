"""Making PyTorch from a virtual environment importable by the Python that QGIS embeds.

QGIS runs plugins in its own Python (the system one on Linux), which usually lacks torch.
On load, HyperFuse looks for it in these places, in this order:
  1. every folder listed in the ``HYPERFUSE_SITE_PACKAGES`` environment variable
     (separated by the OS path separator);
  2. the virtual environment ``hyperfuse/venv`` in the QGIS profile folder
     (``QgsApplication.qgisSettingsDirPath()``, by default
     ``~/.local/share/QGIS/QGIS3/profiles/default/`` on Linux). Not in the plugin folder:
     the Plugin Manager deletes that folder on every upgrade or reinstall, while the profile
     outlives both, and QGIS upgrades too. Where QGIS cannot be asked, QGIS's default
     profile location for the platform stands in, so scripts and messages name the same
     folder;
  3. the virtual environment ``.venv`` inside the plugin folder: a development checkout's
     (``make setup``), which no Plugin Manager replaces.
A virtual environment counts only when it was made for the running Python version.

The folders are appended to ``sys.path``: put first, as inside the environment itself, its
packaging, pygments or numpy would replace the copies that QGIS and every other plugin run
with. Appending alone is not enough, though: torch requires newer releases of some
pure-Python packages (sympy >= 1.13.3) than a distribution may ship (Debian 12: 1.11), and
an appended folder loses to the system's copy. So the distributions torch requires (its
Requires-Dist, followed through the ones taken from the environment) that the system lacks
or has too old come from the environment through a meta-path finder limited to their
top-level module names, as pip itself decided when it installed torch into an environment
made with --system-site-packages. A module imported before the plugin loads stays as it is.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata
import os
import re
import sys

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENT_SUBFOLDER = os.path.join("hyperfuse", "venv")
ROOT_DISTRIBUTIONS = ("torch",)

# The profile folder QGIS named when the plugin loaded; messages name the same environment.
_loaded = {"profile": None}


def default_profile_folder() -> str:
    """QGIS's default profile folder on this platform, for when QGIS itself cannot be asked."""
    if os.environ.get("QGIS_CUSTOM_CONFIG_PATH"):
        base = os.environ["QGIS_CUSTOM_CONFIG_PATH"]
    elif sys.platform == "win32":
        base = os.path.join(os.environ.get("APPDATA") or os.path.expanduser("~"), "QGIS", "QGIS3")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support/QGIS/QGIS3")
    else:
        base = os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "QGIS", "QGIS3")
    return os.path.join(base, "profiles", "default")


def environment_folder(profile_folder: str | None = None) -> str:
    """The virtual environment that holds PyTorch for a QGIS profile (by default the loaded one)."""
    profile = profile_folder or _loaded["profile"] or default_profile_folder()
    return os.path.join(os.path.normpath(profile), ENVIRONMENT_SUBFOLDER)


def _made_for_this_python(venv: str) -> bool:
    # A Windows environment's Lib\site-packages names no Python version; pyvenv.cfg does.
    try:
        with open(os.path.join(venv, "pyvenv.cfg"), encoding="utf-8") as handle:
            match = re.search(r"^version(?:_info)?\s*=\s*(\d+)\.(\d+)", handle.read(), re.MULTILINE)
    except OSError:
        return True
    return match is None or (int(match.group(1)), int(match.group(2))) == sys.version_info[:2]


def venv_site_packages(venv: str) -> list:
    """The site-packages folder of a virtual environment made for this Python, if there is one."""
    if not _made_for_this_python(venv):
        return []
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    layouts = (os.path.join(venv, "lib", version, "site-packages"), os.path.join(venv, "Lib", "site-packages"))
    return [folder for folder in layouts if os.path.isdir(folder)][:1]


def candidate_site_packages(profile_folder: str | None = None) -> list:
    folders = [p for p in os.environ.get("HYPERFUSE_SITE_PACKAGES", "").split(os.pathsep) if p]
    folders += venv_site_packages(environment_folder(profile_folder))
    folders += venv_site_packages(os.path.join(PLUGIN_DIR, ".venv"))
    return [os.path.abspath(f) for f in folders if os.path.isdir(f)]


def add_site_packages(profile_folder: str | None = None) -> list:
    """Append the candidate folders to ``sys.path`` and route torch's missing requirements to them.

    ``profile_folder`` is the QGIS profile folder; returns the folders added.
    """
    if profile_folder:
        _loaded["profile"] = profile_folder
    entries = [p for p in sys.path if isinstance(p, str)]
    present = {os.path.realpath(p) for p in entries}
    added = []
    for folder in candidate_site_packages():
        if os.path.realpath(folder) not in present:
            present.add(os.path.realpath(folder))
            added.append(folder)
    if added:
        names = routed_modules(added, [p for p in entries if p])
        sys.path.extend(added)
        _install_finder(EnvironmentFinder(names, added))
    return added


class EnvironmentFinder(importlib.abc.MetaPathFinder):
    """Imports the named top-level modules from the environment's folders only; no others."""

    def __init__(self, names, folders):
        self.names = frozenset(names)
        self.folders = list(folders)

    def find_spec(self, fullname, path=None, target=None):
        # Submodules follow their package's __path__, which already lies in the environment.
        if path is not None or fullname not in self.names:
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, self.folders)


def _install_finder(finder: EnvironmentFinder) -> None:
    # A plugin reload brings a new class object: match by name so that finders never pile up.
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != EnvironmentFinder.__name__]
    sys.meta_path.insert(0, finder)


def routed_modules(env_folders: list, system_folders: list, roots=ROOT_DISTRIBUTIONS) -> set:
    """Top-level modules that must come from the environment: ``roots`` and what they require.

    A requirement met by the system's copy is left to the system; one the system lacks or has
    too old is taken from the environment, and its own requirements are examined in turn.
    """
    names, routed = set(), set()
    pending = [(root, None) for root in roots]  # None: the environment's copy whatever the system has
    while pending:
        name, specifier = pending.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        env = _distribution(name, env_folders)
        if key in routed or env is None:
            continue
        if specifier is not None and _satisfied(specifier, _distribution(name, system_folders)):
            continue
        routed.add(key)
        names |= _top_level_names(env)
        pending += [parsed for parsed in map(_requirement, env.requires or []) if parsed]
    return names


def _distribution(name: str, folders: list):
    # Python 3.9's importlib.metadata matches names as spelt; later versions normalise them.
    for spelling in dict.fromkeys((name, name.replace("-", "_"), name.replace("_", "-"))):
        for dist in importlib.metadata.distributions(name=spelling, path=list(folders)):
            return dist
    return None


def _requirement(line: str):
    """(name, specifier) of a Requires-Dist line that applies here, or None (extras, other platforms)."""
    try:
        from packaging.requirements import Requirement
    except ImportError:
        # Without packaging no version can be compared: the environment then supplies every
        # requirement it holds, as it would inside the environment itself.
        if "extra" in line.partition(";")[2]:
            return None
        return re.match(r"\s*([A-Za-z0-9._-]+)", line).group(1), None
    requirement = Requirement(line)
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
        return None
    return requirement.name, requirement.specifier


def _satisfied(specifier, dist) -> bool:
    if dist is None:
        return False
    try:
        return specifier.contains(dist.version, prereleases=True)
    except ValueError:  # a version packaging cannot parse: no evidence that it is new enough
        return False


def _top_level_names(dist) -> set:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for file in dist.files or []:  # from RECORD: first path parts that are packages or modules
        first = file.parts[0]
        stem = first.split(".")[0] if first.endswith((".py", ".so", ".pyd")) else first
        if stem.isidentifier() and stem != "__pycache__":
            names.add(stem)
    return names
